// Text for the header's sync and connection state.
import type { Connection, OutboxSummary, SyncStatus } from '../api';
import { formatClock } from './format';

export function syncText(sync: SyncStatus): string {
  if (sync.running) return 'Syncing…';
  if (sync.last_error) return `Sync failed: ${sync.last_error}`;
  if (sync.last_run_at) return `Synced ${formatClock(sync.last_run_at)}`;
  return 'Not synced yet';
}

export const CONNECTION_LABEL: Record<Connection, string> = {
  connected: 'Connected',
  demo: 'Demo data',
  disconnected: 'Not connected',
};

/** "2 entries waiting", "1 refused by Harvest", both, or null when nothing waits. */
export function outboxText(outbox: OutboxSummary): string | null {
  const parts: string[] = [];
  if (outbox.waiting > 0) parts.push(`${outbox.waiting} ${outbox.waiting === 1 ? 'entry' : 'entries'} waiting`);
  if (outbox.refused > 0) parts.push(`${outbox.refused} refused by Harvest`);
  return parts.length > 0 ? parts.join(' · ') : null;
}

/** "2 Harvest entries not imported", or null when the import kept none aside. */
export function quarantineText(count: number): string | null {
  if (count <= 0) return null;
  return `${count} Harvest ${count === 1 ? 'entry' : 'entries'} not imported`;
}
