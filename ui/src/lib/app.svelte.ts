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

/** The theme is a class on <html> that pins app.css's color-scheme; "system"
 *  leaves it to prefers-color-scheme (CSS follows it as it changes). */
export function applyTheme(theme: Theme): void {
  const root = document.documentElement;
  root.classList.remove('theme-light', 'theme-dark');
  if (theme !== 'system') root.classList.add(`theme-${theme}`);
}

export function canManage(state: AppState | null): boolean {
  return state?.me?.role === 'pm' || state?.me?.role === 'admin';
}
