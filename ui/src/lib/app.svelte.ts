// The app-wide state from the core (`app_state` and the `app-state` event),
// plus the moment it last arrived: elapsed timer time is computed against
// that moment, so no interval keeps the webview busy.
import type { AppState, Theme } from '../api';

export const app = $state<{ state: AppState | null; now: number }>({ state: null, now: Date.now() });

export function setAppState(state: AppState): void {
  app.state = state;
  app.now = Date.now();
  applyTheme(state.settings.theme);
}

/** Refreshes "now" on a user action so elapsed times move forward. */
export function touchNow(): void {
  app.now = Date.now();
}

const prefersDark = typeof window !== 'undefined' && window.matchMedia ? window.matchMedia('(prefers-color-scheme: dark)') : null;
let chosen: Theme = 'system';

function paint(): void {
  const dark = chosen === 'dark' || (chosen === 'system' && !!prefersDark?.matches);
  const root = document.documentElement;
  root.classList.toggle('theme-dark', dark);
  root.style.colorScheme = dark ? 'dark' : 'light';
}

prefersDark?.addEventListener?.('change', paint);
if (typeof document !== 'undefined') paint();

/** The theme is the class `theme-dark` on <html> (the one dark palette in
 *  app.css); "system" follows prefers-color-scheme, also when it changes. */
export function applyTheme(theme: Theme): void {
  chosen = theme;
  paint();
}

export function canManage(state: AppState | null): boolean {
  return state?.me?.role === 'pm' || state?.me?.role === 'admin';
}
