import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { tick } from 'svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as api from './api';
import { appStateFixture, ticket } from './fixtures';
import { app } from './lib/app.svelte';
import { clearError } from './lib/errors.svelte';
import { formatClock } from './lib/format';
import { installApiDefaults } from './test-api';

vi.mock('./api', async (importOriginal) => (await import('./test-api')).mockApi(await importOriginal()));

const away = { harvest_id: 555, ticket: 101, away: { since: '2026-11-23T10:14:00Z', back: '2026-11-23T10:40:30Z' } };
const running = { running: true, ticket: 101, harvest_id: 555, started_at: '2026-11-23T09:00:00Z', elapsed_hours: 1.4 };
const tickets = [
  ticket({ number: 101, subject: 'Away on this one' }),
  ticket({ number: 102, subject: 'Locked one', locked: true }),
  ticket({ number: 103, subject: 'Not linked', harvest_project_id: null }),
  ticket({ number: 104, subject: 'Good target' }),
];

/** The App's handler for app-state events. */
function pushState(state: api.AppState) {
  const handler = vi.mocked(api.onAppState).mock.calls.at(-1)?.[0];
  expect(handler, 'the App listens to app-state').toBeTruthy();
  handler?.(state);
}

async function prompt() {
  render(App);
  return screen.findByTestId('idle-prompt');
}

describe('Idle prompt', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
    app.state = null;
    vi.mocked(api.listTickets).mockResolvedValue(tickets);
    vi.mocked(api.appState).mockResolvedValue(appStateFixture({ timer: running, away }));
    vi.mocked(api.answerAway).mockResolvedValue(running);
  });

  it('asks what became of the time away, with focus inside the modal', async () => {
    const dialog = await prompt();
    expect(dialog.getAttribute('role')).toBe('dialog');
    expect(dialog.getAttribute('aria-modal')).toBe('true');
    expect(within(dialog).getByRole('heading').textContent, 'whole minutes, rounded down').toBe('You were away 26 min');
    const from = formatClock(away.away.since);
    expect(dialog.textContent).toContain(`Your timer ran from ${from} to ${formatClock(away.away.back)} while you were away.`);
    expect(within(dialog).getByTestId('idle-stop').textContent?.trim()).toBe(`Stop at ${from}`);
    expect(dialog.contains(document.activeElement), 'focus starts in the dialog').toBe(true);
  });

  it.each([
    ['idle-keep', { kind: 'keep' }],
    ['idle-discard', { kind: 'discard' }],
    ['idle-stop', { kind: 'stop_at_idle_start' }],
  ] as const)('%s answers %o and closes at once', async (testid, choice) => {
    await prompt();
    await fireEvent.click(screen.getByTestId(testid));
    expect(api.answerAway).toHaveBeenCalledWith(choice);
    await waitFor(() => expect(screen.queryByTestId('idle-prompt'), 'closed without waiting for the event').toBeNull());
  });

  it('moves the time to an open, linked, other ticket', async () => {
    await prompt();
    await screen.findByRole('option', { name: /#104/ });
    const select = screen.getByTestId('idle-move-ticket') as HTMLSelectElement;
    const offered = [...select.options].map((o) => o.textContent);
    expect(offered).toEqual(['Choose a ticket', '#104 Good target']);
    expect((screen.getByTestId('idle-move') as HTMLButtonElement).disabled, 'nothing chosen yet').toBe(true);

    await fireEvent.change(select, { target: { value: select.options[1].value } });
    await fireEvent.click(screen.getByTestId('idle-move'));
    expect(api.answerAway).toHaveBeenCalledWith({ kind: 'split_to', ticket: 104 });
  });

  it('disables the answers while one is on its way and keeps the dialog with the error', async () => {
    let fail: (e: unknown) => void = () => {};
    vi.mocked(api.answerAway).mockReturnValue(new Promise((_, reject) => (fail = reject)));
    await prompt();
    await fireEvent.click(screen.getByTestId('idle-discard'));
    for (const id of ['idle-keep', 'idle-discard', 'idle-stop']) {
      expect((screen.getByTestId(id) as HTMLButtonElement).disabled, `${id} waits`).toBe(true);
    }
    fail({ code: 'harvest', message: 'Harvest is unreachable' });
    const dialog = screen.getByTestId('idle-prompt');
    expect((await within(dialog).findByTestId('idle-error')).textContent).toBe('Harvest is unreachable');
    expect((screen.getByTestId('idle-keep') as HTMLButtonElement).disabled).toBe(false);
  });

  it('cannot be dismissed: no close button, and Escape closes nothing', async () => {
    const dialog = await prompt();
    expect(within(dialog).queryByRole('button', { name: 'Close' })).toBeNull();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.getByTestId('idle-prompt')).toBeTruthy();
    expect(api.answerAway).not.toHaveBeenCalled();
  });

  it('closes when the away is answered elsewhere, and a stale event does not bring it back', async () => {
    await prompt();
    pushState(appStateFixture({ timer: running, away: null }));
    await waitFor(() => expect(screen.queryByTestId('idle-prompt')).toBeNull());

    const later = { ...away, away: { since: '2026-11-23T12:00:00Z', back: '2026-11-23T12:30:00Z' } };
    pushState(appStateFixture({ timer: running, away: later }));
    expect((await screen.findByTestId('idle-prompt')).textContent).toContain('You were away 30 min');
    await fireEvent.click(screen.getByTestId('idle-keep'));
    await waitFor(() => expect(screen.queryByTestId('idle-prompt')).toBeNull());
    pushState(appStateFixture({ timer: running, away: later }));
    await tick();
    expect(screen.queryByTestId('idle-prompt'), 'an event sent before the answer').toBeNull();
  });
});
