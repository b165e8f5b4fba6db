import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as api from './api';
import { appStateFixture } from './fixtures';
import { app } from './lib/app.svelte';
import { clearError } from './lib/errors.svelte';
import { installApiDefaults } from './test-api';

vi.mock('./api', async (importOriginal) => (await import('./test-api')).mockApi(await importOriginal()));

const item = (over: Partial<api.OutboxItem>): api.OutboxItem => ({
  id: 'a1',
  ticket: 7,
  project_id: 1,
  task_id: 2,
  spent_date: '2026-12-03',
  hours: '0.50',
  notes: 'VPN logs',
  state: 'pending',
  attempts: 1,
  last_error: 'Harvest is down or unreachable: 503',
  harvest_id: null,
  created_at: '2026-12-03T09:00:00Z',
  logged_by: 1,
  attempted_at: '2026-12-03T09:00:00Z',
  ...over,
});

describe('Time on its way to Harvest', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
    app.state = null;
  });

  it('says what waits and what Harvest refused, retries and discards only after asking', async () => {
    vi.mocked(api.appState).mockResolvedValue({ ...appStateFixture(), outbox: { waiting: 2, refused: 1 } });
    vi.mocked(api.outboxItems).mockResolvedValue([
      item({ id: 'a1' }),
      item({ id: 'a2', hours: '1.25', state: 'sending' }),
      item({ id: 'b1', state: 'failed', last_error: 'Harvest refused the request: Task is inactive' }),
    ]);
    vi.mocked(api.outboxRetry).mockResolvedValue(null);
    vi.mocked(api.outboxDiscard).mockResolvedValue(null);
    render(App);
    const status = await screen.findByTestId('outbox-status');
    expect(status.textContent).toContain('2 entries waiting');
    expect(status.textContent).toContain('1 refused by Harvest');

    await fireEvent.click(status);
    const items = await screen.findAllByTestId('outbox-item');
    expect(items.map((i) => i.dataset.state)).toEqual(['pending', 'sending', 'failed']);
    const refused = items[2];
    expect(within(refused).getByTestId('outbox-error').textContent).toContain('Task is inactive');
    expect(within(items[1]).queryByTestId('outbox-discard'), 'an item being sent cannot be discarded').toBeNull();
    expect(within(items[0]).queryByTestId('outbox-retry'), 'a waiting item needs no retry').toBeNull();

    await fireEvent.click(within(refused).getByTestId('outbox-retry'));
    await waitFor(() => expect(api.outboxRetry).toHaveBeenCalledWith('b1'));

    await fireEvent.click(within(items[0]).getByTestId('outbox-discard'));
    expect(api.outboxDiscard, 'Discard asks first').not.toHaveBeenCalled();
    const confirm = await screen.findByTestId('confirm-dialog');
    expect(confirm.textContent).toContain('0.5 h on #7');
    await fireEvent.click(within(confirm).getByTestId('confirm-yes'));
    await waitFor(() => expect(api.outboxDiscard).toHaveBeenCalledWith('a1'));
  });

  it('shows nothing when no time waits', async () => {
    render(App);
    await screen.findByTestId('sync-now');
    expect(screen.queryByTestId('outbox-status')).toBeNull();
  });

  it('names the Harvest entries the import kept aside, with the reason', async () => {
    vi.mocked(api.appState).mockResolvedValue({ ...appStateFixture(), quarantined: 1 });
    vi.mocked(api.quarantine).mockResolvedValue([
      {
        harvest_id: 2380000042,
        reason: 'hours: hours cannot be negative (got -1)',
        first_seen_at: '2026-12-03T08:00:00Z',
        last_seen_at: '2026-12-03T09:00:00Z',
      },
    ]);
    render(App);
    const status = await screen.findByTestId('quarantine-status');
    expect(status.textContent).toContain('1 Harvest entry not imported');
    await fireEvent.click(status);
    const entry = await screen.findByTestId('quarantine-entry');
    expect(entry.textContent).toContain('Harvest entry 2380000042');
    expect(entry.textContent).toContain('cannot be negative');
  });

  it('shows nothing about the quarantine while the import kept nothing aside', async () => {
    render(App);
    await screen.findByTestId('sync-status');
    expect(screen.queryByTestId('quarantine-status')).toBeNull();
  });
});
