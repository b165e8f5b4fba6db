// A stand-in for `./api` in component tests: every command and event wrapper
// is a `vi.fn()`; `installApiDefaults` gives them harmless answers so a test
// only states what matters to it.
//   vi.mock('./api', async (importOriginal) =>
//     (await import('./test-api')).mockApi(await importOriginal()));
import { vi } from 'vitest';
import type * as Api from './api';
import { appStateFixture } from './fixtures';

const COMMANDS = [
  'appState',
  'listTickets',
  'getTicket',
  'timeline',
  'createTicket',
  'updateTicket',
  'linkProject',
  'harvestClients',
  'createHarvestProject',
  'recordMessage',
  'submitEntry',
  'timerStart',
  'timerStop',
  'summarize',
  'unlockTicket',
  'requestUnlock',
  'unlockRequests',
  'answerUnlockRequest',
  'syncNow',
  'outboxItems',
  'outboxRetry',
  'outboxDiscard',
  'quarantine',
  'connectOauth',
  'connectToken',
  'startDemo',
  'disconnect',
  'saveSettings',
  'openProject',
] as const;

const EVENTS = ['onAppState', 'onTicketsChanged', 'onOpenTicket', 'onShowPicker'] as const;

export function mockApi(real: typeof Api): typeof Api {
  const mocked: Record<string, unknown> = { ...real };
  for (const name of [...COMMANDS, ...EVENTS]) mocked[name] = vi.fn();
  return mocked as unknown as typeof Api;
}

export function installApiDefaults(api: typeof Api): void {
  for (const name of COMMANDS) vi.mocked(api[name]).mockReset();
  for (const name of EVENTS) vi.mocked(api[name]).mockReset().mockResolvedValue(() => {});
  vi.mocked(api.appState).mockResolvedValue(appStateFixture());
  vi.mocked(api.listTickets).mockResolvedValue([]);
  vi.mocked(api.timeline).mockResolvedValue({ items: [], total: 0, start: 0 });
  vi.mocked(api.submitEntry).mockResolvedValue({ state: 'none', harvest_id: null, message: null });
  vi.mocked(api.unlockRequests).mockResolvedValue([]);
  vi.mocked(api.outboxItems).mockResolvedValue([]);
  vi.mocked(api.quarantine).mockResolvedValue([]);
}
