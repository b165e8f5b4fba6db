import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as api from './api';
import { appStateFixture, detailFixture, ticket, timesheetFixture, unlockRequest } from './fixtures';
import { app } from './lib/app.svelte';
import { clearError } from './lib/errors.svelte';
import { logtime } from './lib/logtime.svelte';
import { installApiDefaults } from './test-api';

vi.mock('./api', async (importOriginal) => (await import('./test-api')).mockApi(await importOriginal()));

const tickets = [ticket({ number: 101, subject: 'Fix login' }), ticket({ number: 102, subject: 'Migrate invoices' })];

/** The handler the App registered for an event wrapper. */
function handler<T>(fn: (h: (payload: T) => void) => unknown): (payload: T) => void {
  const calls = vi.mocked(fn).mock.calls;
  expect(calls.length, 'the App subscribes to the event').toBeGreaterThan(0);
  return calls[calls.length - 1][0];
}

describe('App shell', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
    logtime.reset();
    app.state = null; // as at start-up; a previous test may have left a PM signed in
    document.documentElement.className = '';
    vi.mocked(api.listTickets).mockResolvedValue(tickets);
    vi.mocked(api.getTicket).mockImplementation(async (number) => detailFixture({}, { number, subject: `Ticket ${number}` }));
  });

  it('opens a ticket from its row with the keyboard and goes back to the list', async () => {
    render(App);
    const row = (await screen.findAllByTestId('ticket-row')).find((r) => r.dataset.number === '102');
    const button = within(row as HTMLElement).getByRole('button');
    await fireEvent.click(button);

    expect(await screen.findByTestId('ticket-view')).toBeTruthy();
    expect(api.getTicket).toHaveBeenCalledWith(102);
    await fireEvent.click(screen.getByTestId('back-to-list'));
    expect(await screen.findByTestId('ticket-list')).toBeTruthy();
  });

  it('opens the ticket named by the open-ticket event', async () => {
    render(App);
    await screen.findByTestId('ticket-list');
    handler(api.onOpenTicket)(101);
    expect(await screen.findByText('Ticket 101')).toBeTruthy();
  });

  it('opens the picker with Ctrl+K and the show-picker event; Enter opens the chosen ticket', async () => {
    render(App);
    await screen.findByTestId('ticket-list');
    await fireEvent.keyDown(window, { key: 'k', ctrlKey: true });
    const search = await screen.findByTestId('picker-search');
    expect(document.activeElement, 'typing goes straight to the search').toBe(search);
    await fireEvent.input(search, { target: { value: 'invoices' } });
    expect(screen.getAllByTestId('picker-item').map((i) => i.dataset.number)).toEqual(['102']);
    await fireEvent.keyDown(search, { key: 'Enter' });
    expect(await screen.findByText('Ticket 102')).toBeTruthy();
    expect(screen.queryByTestId('picker')).toBeNull();

    const showPicker = vi.mocked(api.onShowPicker).mock.calls.at(-1)?.[0];
    showPicker?.();
    expect(await screen.findByTestId('picker')).toBeTruthy();
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('picker')).toBeNull();
  });

  it('updates from app-state events: sync status, running timer and a notice shown once', async () => {
    render(App);
    await screen.findByTestId('ticket-list');
    handler(api.onAppState)(
      appStateFixture({
        sync: { running: false, last_error: 'Harvest is unreachable', last_run_at: null },
        timer: { running: true, ticket: 101, harvest_id: 1, started_at: '2024-05-03T14:02:00Z', elapsed_hours: 0.1 },
        notice: 'No system tray: Tickettime keeps running in this window.',
      }),
    );
    expect((await screen.findByTestId('sync-status')).textContent).toContain('Harvest is unreachable');
    expect(screen.getByRole('button', { name: /#101 · since/ })).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: 'Dismiss' }));
    expect(screen.queryByText(/No system tray/)).toBeNull();
  });

  it('syncs on demand and shows the new status', async () => {
    vi.mocked(api.syncNow).mockResolvedValue({ running: false, last_error: null, last_run_at: '2024-05-03T14:05:00Z' });
    render(App);
    await fireEvent.click(await screen.findByTestId('sync-now'));
    await waitFor(() => expect(screen.getByTestId('sync-status').textContent).toMatch(/Synced \d\d:\d\d/));
  });

  it('shows command errors in the error banner', async () => {
    vi.mocked(api.syncNow).mockRejectedValue({ code: 'not_connected', message: 'Connect Harvest first.' });
    render(App);
    await fireEvent.click(await screen.findByTestId('sync-now'));
    const banner = await screen.findByTestId('error-banner');
    expect(banner.getAttribute('role')).toBe('alert');
    expect(banner.textContent).toContain('Connect Harvest first.');
  });

  it('refetches the open ticket when tickets-changed names it', async () => {
    render(App);
    await screen.findByTestId('ticket-list');
    handler(api.onOpenTicket)(101);
    await screen.findByText('Ticket 101');
    handler(api.onTicketsChanged)([101]);
    await waitFor(() => expect(vi.mocked(api.getTicket).mock.calls.length).toBe(2));
  });

  it('lets PMs create tickets but not agents', async () => {
    render(App);
    await screen.findByTestId('ticket-list');
    expect(screen.queryByRole('button', { name: 'New ticket' }), 'agents cannot create').toBeNull();

    handler(api.onAppState)(appStateFixture({ me: { name: 'Pat', email: 'pat@x.test', role: 'pm', account_id: 1 } }));
    await fireEvent.click(await screen.findByRole('button', { name: 'New ticket' }));
    await fireEvent.input(screen.getByRole('textbox', { name: 'Subject' }), { target: { value: 'New work' } });
    await fireEvent.input(screen.getByRole('textbox', { name: 'Budget hours' }), { target: { value: '12' } });
    vi.mocked(api.createTicket).mockResolvedValue(ticket({ number: 300, subject: 'New work' }));
    await fireEvent.click(screen.getByRole('button', { name: 'Create ticket' }));
    expect(api.createTicket).toHaveBeenCalledWith({
      subject: 'New work',
      client: null,
      agent: null,
      pm: null,
      budget_hours: '12',
      quoted_hours: null,
      project_id: null,
    });
  });

  it('marks rows with a pending unlock request for PMs and refreshes the marks on tickets-changed', async () => {
    const pm = appStateFixture({ me: { name: 'Pat', email: 'pat@x.test', role: 'pm', account_id: 1 } });
    vi.mocked(api.appState).mockResolvedValue(pm);
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 1, ticket: 102 })]);
    render(App);

    const marked = async () => {
      await screen.findByTestId('ticket-list');
      return screen
        .getAllByTestId('ticket-row')
        .filter((r) => within(r).queryByText('Unlock requested'))
        .map((r) => r.dataset.number);
    };
    await waitFor(async () => expect(await marked()).toEqual(['102']));
    expect(api.unlockRequests).toHaveBeenCalledWith({ number: null });

    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ id: 2, ticket: 101 }),
      unlockRequest({ id: 1, ticket: 102, state: 'approved' }),
    ]);
    handler(api.onTicketsChanged)([102]);
    await waitFor(async () => expect(await marked()).toEqual(['101']));
  });

  it('never loads or marks pending unlock requests for agents', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 1, ticket: 102 })]);
    render(App);
    await screen.findByTestId('ticket-list');
    await waitFor(() => expect(api.appState).toHaveBeenCalled());
    handler(api.onTicketsChanged)([]);
    await waitFor(() => expect(api.listTickets).toHaveBeenCalledTimes(2));
    expect(api.unlockRequests).not.toHaveBeenCalledWith({ number: null });
    expect(screen.queryByText('Unlock requested')).toBeNull();
  });

  it('saves settings and applies the theme as a class on <html>', async () => {
    vi.mocked(api.saveSettings).mockImplementation(async (s) => ({ ...s, team_database: s.team_database ?? '' }));
    render(App);
    await fireEvent.click(await screen.findByTestId('settings-button'));
    expect(screen.queryByRole('spinbutton', { name: 'Lock at (%)' }), 'only admins set the lock threshold').toBeNull();
    await fireEvent.change(screen.getByRole('combobox', { name: 'Theme' }), { target: { value: 'dark' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Save' }));
    await waitFor(() => expect(document.documentElement.classList.contains('theme-dark')).toBe(true));
    expect(api.saveSettings).toHaveBeenCalledWith(expect.objectContaining({ theme: 'dark', sync_interval_minutes: 5 }));
  });

  it('opens the timesheet from the status bar; a ticket opened there goes back to it', async () => {
    vi.mocked(api.timesheet).mockResolvedValue(
      timesheetFixture({ total: '1.00' }, { 0: { total: '1.00', lines: [{ ticket: 102, subject: 'Migrate invoices', hours: '1.00', notes: [] }] } }),
    );
    render(App);
    await screen.findByTestId('ticket-list');
    await fireEvent.click(screen.getByTestId('open-timesheet'));
    const view = await screen.findByTestId('timesheet-view');
    await fireEvent.click(await within(view).findByRole('button', { name: '#102' }));
    expect(await screen.findByText('Ticket 102')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: '← Back to timesheet' }));
    expect(await screen.findByTestId('timesheet-view')).toBeTruthy();
    await fireEvent.click(screen.getByRole('button', { name: '← Back to list' }));
    expect(await screen.findByTestId('ticket-list')).toBeTruthy();
  });

  it('opens the budgets overview from the status bar with the tickets the App loaded', async () => {
    render(App);
    await screen.findByTestId('ticket-list');
    await fireEvent.click(screen.getByTestId('open-budgets'));
    const view = await screen.findByTestId('budgets-view');
    expect(within(view).getAllByTestId('budget-row').map((r) => r.dataset.number)).toEqual(['101', '102']);
    expect(api.listTickets, 'no second load').toHaveBeenCalledTimes(1);
  });

  it('shows the Harvest profile and connects with a personal token', async () => {
    vi.mocked(api.appState).mockResolvedValue(appStateFixture({ connection: 'disconnected', me: null }));
    vi.mocked(api.connectToken).mockResolvedValue(appStateFixture());
    render(App);
    expect((await screen.findAllByTestId('connect-button')).length, 'the banner offers Connect').toBeGreaterThan(0);
    await fireEvent.click(screen.getByTestId('profile-button'));
    const dialog = screen.getByRole('dialog');
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Use a personal token' }));
    await fireEvent.input(within(dialog).getByLabelText('Personal access token'), { target: { value: 'tok' } });
    await fireEvent.input(within(dialog).getByLabelText('Account id'), { target: { value: '123456' } });
    await fireEvent.click(within(dialog).getByRole('button', { name: 'Connect' }));
    expect(api.connectToken).toHaveBeenCalledWith('tok', 123456);
    expect(await within(dialog).findByText('sam@example.com')).toBeTruthy();
    expect(within(dialog).getByText('123456')).toBeTruthy();
  });
});
