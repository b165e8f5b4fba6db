// What the Settings screen starts from when no app state came, and the
// checks it makes before Save. The core checks again and is the authority:
// its message shows the same way.
import type { Settings } from '../api';

/** The working-day checkboxes, in `reminders.days` order (Monday first). */
export const WORKING_DAYS = ['Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat', 'Sun'] as const;

export function defaultSettings(): Settings {
  return {
    sync_interval_minutes: 5,
    approaching_pct: 75,
    near_pct: 90,
    lock_pct: 100,
    start_at_login: false,
    global_shortcut: '',
    theme: 'system',
    team_database: '',
    idle_minutes: 10,
    reminders: {
      enabled: true,
      days: [true, true, true, true, true, false, false],
      start: '09:00',
      end: '17:00',
      no_timer_minutes: 30,
      long_timer_hours: 4,
      snooze_minutes: 30,
    },
  };
}

/** A number input left empty binds null: that is "not a whole number" too. */
function wholeIn(value: number | null, min: number, max: number): boolean {
  return value !== null && Number.isInteger(value) && value >= min && value <= max;
}

const CLOCK = /^([01]\d|2[0-3]):[0-5]\d$/;

/** The first problem with the settings as typed, or null. */
export function checkSettings(s: Settings): string | null {
  if (!Number.isInteger(s.sync_interval_minutes) || s.sync_interval_minutes < 1) {
    return 'The sync interval is a whole number of minutes, at least 1.';
  }
  if (!(s.approaching_pct > 0 && s.approaching_pct < s.near_pct)) {
    return 'The "approaching" threshold must be above 0 and below the "near" threshold.';
  }
  if (!(s.near_pct < s.lock_pct)) return 'The "near" threshold must be below the lock threshold.';
  if (!wholeIn(s.idle_minutes, 0, 240)) return 'Ask about idle time after 1 to 240 whole minutes, or 0 for never.';
  const r = s.reminders;
  if (!CLOCK.test(r.start) || !CLOCK.test(r.end)) return 'Working hours are times like 09:00 and 17:00.';
  // Both are zero-padded HH:MM, so text order is time order.
  if (r.start >= r.end) return 'Working hours must start before they end.';
  if (!wholeIn(r.no_timer_minutes, 1, 480)) return 'The reminder to start a timer comes after 1 to 480 whole minutes.';
  if (!wholeIn(r.long_timer_hours, 1, 24)) return 'The "still working?" question comes after 1 to 24 whole hours.';
  if (!wholeIn(r.snooze_minutes, 1, 480)) return 'Snooze lasts 1 to 480 whole minutes.';
  return null;
}
