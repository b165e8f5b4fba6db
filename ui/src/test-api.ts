// A stand-in for `./api` in component tests: every command and event wrapper
// is a `vi.fn()`; `installApiDefaults` gives them harmless answers so a test
// only states what matters to it.
//   vi.mock('./api', async (importOriginal) =>
//     (await import('./test-api')).mockApi(await importOriginal()));
import { vi } from 'vitest';
import type * as Api from './api';
import { appStateFixture, timesheetFixture } from './fixtures';

/** Pure helpers of ./api that tests use as they are. */
const HELPERS = new Set(['toCommandError']);
const EVENTS = ['onAppState', 'onTicketsChanged', 'onOpenTicket', 'onShowPicker'] as const;

type Wrapper = { [K in keyof typeof Api]: (typeof Api)[K] extends (...args: never[]) => unknown ? K : never }[keyof typeof Api];

/** Every command wrapper ./api exports: no list to keep beside it. */
function commandsOf(api: typeof Api): Wrapper[] {
  return (Object.keys(api) as (keyof typeof Api)[]).filter(
    (name): name is Wrapper =>
      typeof api[name] === 'function' && !HELPERS.has(name) && !(EVENTS as readonly string[]).includes(name),
  );
}

export function mockApi(real: typeof Api): typeof Api {
  const mocked: Record<string, unknown> = { ...real };
  for (const name of [...commandsOf(real), ...EVENTS]) mocked[name] = vi.fn();
  return mocked as unknown as typeof Api;
}

export function installApiDefaults(api: typeof Api): void {
  for (const name of commandsOf(api)) vi.mocked(api[name]).mockReset();
  for (const name of EVENTS) vi.mocked(api[name]).mockReset().mockResolvedValue(() => {});
  vi.mocked(api.appState).mockResolvedValue(appStateFixture());
  vi.mocked(api.listTickets).mockResolvedValue([]);
  vi.mocked(api.timeline).mockResolvedValue({ items: [], total: 0, start: 0 });
  vi.mocked(api.submitEntry).mockResolvedValue({ state: 'none', harvest_id: null, message: null });
  vi.mocked(api.unlockRequests).mockResolvedValue([]);
  vi.mocked(api.outboxItems).mockResolvedValue([]);
  vi.mocked(api.quarantine).mockResolvedValue([]);
  vi.mocked(api.desks).mockResolvedValue([]);
  vi.mocked(api.timesheet).mockResolvedValue(timesheetFixture());
  vi.mocked(api.gaps).mockResolvedValue([]);
}
