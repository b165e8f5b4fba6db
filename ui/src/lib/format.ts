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
