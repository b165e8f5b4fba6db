import { describe, expect, it } from 'vitest';
import { formatClock, formatDay, formatDayTime, formatDuration, hoursSince, minutesBetween } from './format';
import { syncText } from './status';

describe('format', () => {
  it('shows durations as h:mm', () => {
    expect(formatDuration(1.5)).toBe('1:30');
    expect(formatDuration(0.2)).toBe('0:12');
    expect(formatDuration(-1)).toBe('0:00');
  });

  it('measures hours since a start without going negative', () => {
    const start = '2024-05-03T14:00:00Z';
    expect(hoursSince(start, Date.parse('2024-05-03T15:30:00Z'))).toBe(1.5);
    expect(hoursSince(start, Date.parse('2024-05-03T13:00:00Z'))).toBe(0);
  });

  it('shows a calendar date as weekday, day and month, never shifted a day', () => {
    expect(formatDay('2026-12-10')).toBe('Thu 10 Dec');
    expect(formatDay('2026-11-23')).toBe('Mon 23 Nov');
    expect(formatDay('2027-01-01'), 'the first of a month stays in its month').toBe('Fri 1 Jan');
    expect(formatDay('2026-02-31'), 'no such day').toBe('2026-02-31');
    expect(formatDay('soon')).toBe('soon');
  });

  it('shows a timestamp as its local day and clock', () => {
    const at = '2026-11-23T14:05:00Z';
    const local = new Date(at);
    const day = formatDay(
      `${local.getFullYear()}-${String(local.getMonth() + 1).padStart(2, '0')}-${String(local.getDate()).padStart(2, '0')}`,
    );
    expect(formatDayTime(at)).toBe(`${day} ${formatClock(at)}`);
    expect(formatDayTime('later')).toBe('later');
  });

  it('counts whole minutes between two timestamps, rounding down', () => {
    expect(minutesBetween('2026-11-23T10:14:00Z', '2026-11-23T10:40:59Z')).toBe(26);
    expect(minutesBetween('2026-11-23T10:40:00Z', '2026-11-23T10:14:00Z')).toBe(0);
    expect(minutesBetween('x', '2026-11-23T10:14:00Z')).toBe(0);
  });

  it('puts a sync error before the last sync time', () => {
    expect(syncText({ running: false, last_error: 'Harvest unreachable', last_run_at: '2024-05-03T14:00:00Z' })).toBe(
      'Sync failed: Harvest unreachable',
    );
    expect(syncText({ running: true, last_error: null, last_run_at: null })).toBe('Syncing…');
    expect(syncText({ running: false, last_error: null, last_run_at: null })).toBe('Not synced yet');
  });
});
