// Text for the header's sync and connection state.
import type { Connection, SyncStatus } from '../api';
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
