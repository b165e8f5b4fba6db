import { describe, expect, it } from 'vitest';
import { formatDuration, hoursSince } from './format';
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

  it('puts a sync error before the last sync time', () => {
    expect(syncText({ running: false, last_error: 'Harvest unreachable', last_run_at: '2024-05-03T14:00:00Z' })).toBe(
      'Sync failed: Harvest unreachable',
    );
    expect(syncText({ running: true, last_error: null, last_run_at: null })).toBe('Syncing…');
    expect(syncText({ running: false, last_error: null, last_run_at: null })).toBe('Not synced yet');
  });
});
