// Formatting of times and durations for display. Pure, locale-light.

function pad(n: number): string {
  return String(n).padStart(2, '0');
}

/** "14:02" in local time; the raw text when it is not a date. */
export function formatClock(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

/** "2024-05-03 14:02" in local time. */
export function formatDateTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${formatClock(iso)}`;
}

/** Hours as "h:mm", e.g. 1.5 → "1:30", 0.2 → "0:12". */
export function formatDuration(hours: number): string {
  const minutes = Math.max(0, Math.round(hours * 60));
  return `${Math.floor(minutes / 60)}:${pad(minutes % 60)}`;
}

/** Hours between an ISO start and `now` (ms), never negative. */
export function hoursSince(iso: string, now: number): number {
  const start = new Date(iso).getTime();
  if (Number.isNaN(start)) return 0;
  return Math.max(0, (now - start) / 3_600_000);
}

// English names, like the rest of the window's text: "Thu 10 Dec".
const WEEKDAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/**
 * A calendar date ("2026-12-10") as "Thu 10 Dec"; the raw text when it is not
 * one. It is the day as written: read in UTC, so no time zone moves it a day.
 */
export function formatDay(date: string): string {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(date);
  if (!m) return date;
  const d = new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3])));
  if (d.getUTCDate() !== Number(m[3])) return date;
  return `${WEEKDAYS[d.getUTCDay()]} ${d.getUTCDate()} ${MONTHS[d.getUTCMonth()]}`;
}

/** A timestamp as "Mon 23 Nov 14:05" in local time; the raw text when it is not one. */
export function formatDayTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  return `${WEEKDAYS[d.getDay()]} ${d.getDate()} ${MONTHS[d.getMonth()]} ${formatClock(iso)}`;
}

/** Whole minutes from one timestamp to another, rounded down, never negative. */
export function minutesBetween(from: string, to: string): number {
  const ms = new Date(to).getTime() - new Date(from).getTime();
  return Number.isNaN(ms) ? 0 : Math.max(0, Math.floor(ms / 60_000));
}
