import { fireEvent, render, screen, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import App from './App.svelte';
import * as api from './api';
import { clearError } from './lib/errors.svelte';
import { detailFixture, ticket } from './fixtures';
import { installApiDefaults } from './test-api';

vi.mock('./api', async (importOriginal) => (await import('./test-api')).mockApi(await importOriginal()));

const mockedList = vi.mocked(api.listTickets);

const tickets = [
  ticket({ number: 101, subject: 'Fix login redirect', client: 'Acme', band: 'green', utilization_pct: '25.00' }),
  ticket({
    number: 102,
    subject: 'Migrate invoices',
    client: 'Globex',
    hours_used: '12.00',
    budget_hours: '10.00',
    utilization_pct: '120.00',
    band: 'red',
    locked: true,
    lock_reason: 'Hours used (12) exceed the budget (10)',
  }),
  ticket({
    number: 230,
    subject: 'Quarterly report',
    client: null,
    budget_hours: null,
    utilization_pct: null,
    band: null,
    hours_used: '3.00',
  }),
];

async function rows() {
  await screen.findByTestId('ticket-list');
  return screen.getAllByTestId('ticket-row');
}

function rowFor(number: number): HTMLElement {
  const row = screen.getAllByTestId('ticket-row').find((r) => r.dataset.number === String(number));
  if (!row) throw new Error(`no row for ticket #${number}`);
  return row;
}

describe('App', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
  });

  it('renders one row per ticket with number, subject, client and status', async () => {
    mockedList.mockResolvedValue(tickets);
    render(App);

    expect(await rows(), 'every ticket from the core gets a row').toHaveLength(3);
    const first = within(rowFor(101));
    expect(first.getByText('#101')).toBeTruthy();
    expect(first.getByText('Fix login redirect')).toBeTruthy();
    expect(first.getByText('Acme')).toBeTruthy();
    expect(first.getByText('open')).toBeTruthy();
    expect(first.getByText('2.5 / 10 h'), 'hours used against the budget').toBeTruthy();
  });

  it('names the help desk and its number on a ticket that comes from one, and none on a local one', async () => {
    mockedList.mockResolvedValue([
      ticket({ number: 7, subject: 'Checkout fails', source: 'osticket', source_number: '489123' }),
      ticket({ number: 8, subject: 'Typed in here' }),
    ]);
    render(App);

    await rows();
    expect(within(rowFor(7)).getByTestId('ticket-source').textContent).toBe('osTicket #489123');
    expect(within(rowFor(8)).queryByTestId('ticket-source')).toBeNull();
  });

  it('shows a loading state until the tickets arrive', async () => {
    let resolve: (value: typeof tickets) => void = () => {};
    mockedList.mockReturnValue(new Promise((r) => (resolve = r)));
    render(App);

    expect(screen.getByRole('status').textContent).toContain('Loading');
    resolve(tickets);
    await rows();
    expect(screen.queryByRole('status'), 'the loading text goes once the list is there').toBeNull();
  });

  it('filters rows by number, subject and client as the user types', async () => {
    mockedList.mockResolvedValue(tickets);
    render(App);
    await rows();
    const search = screen.getByRole('searchbox', { name: 'Search tickets' });

    await fireEvent.input(search, { target: { value: 'globex' } });
    expect(screen.getAllByTestId('ticket-row').map((r) => r.dataset.number)).toEqual(['102']);

    await fireEvent.input(search, { target: { value: '#23' } });
    expect(screen.getAllByTestId('ticket-row').map((r) => r.dataset.number)).toEqual(['230']);

    await fireEvent.input(search, { target: { value: 'LOGIN' } });
    expect(screen.getAllByTestId('ticket-row').map((r) => r.dataset.number)).toEqual(['101']);

    await fireEvent.input(search, { target: { value: 'nothing like this' } });
    expect(screen.queryAllByTestId('ticket-row')).toHaveLength(0);
    expect(screen.getByText(/No tickets match/)).toBeTruthy();
  });

  it('says "Budget not set" when a ticket has no budget or a zero budget', async () => {
    mockedList.mockResolvedValue([
      tickets[2],
      ticket({ number: 7, budget_hours: '0.00', utilization_pct: null, band: null }),
    ]);
    render(App);
    await rows();

    expect(within(rowFor(230)).getByText('Budget not set')).toBeTruthy();
    expect(within(rowFor(7)).getByText('Budget not set'), 'a zero budget is no budget').toBeTruthy();
  });

  it('marks a locked ticket with an Over Budget badge and only that one', async () => {
    mockedList.mockResolvedValue(tickets);
    render(App);
    await rows();

    expect(within(rowFor(102)).getByText('Over Budget')).toBeTruthy();
    expect(within(rowFor(101)).queryByText('Over Budget')).toBeNull();
  });

  it('names the band in text so colour is not the only signal', async () => {
    mockedList.mockResolvedValue(tickets);
    render(App);
    await rows();

    expect(within(rowFor(101)).getByText('Green')).toBeTruthy();
    expect(within(rowFor(101)).getByText('25%')).toBeTruthy();
    expect(within(rowFor(102)).getByText('Red')).toBeTruthy();
    expect(within(rowFor(102)).getByText('120%')).toBeTruthy();
  });

  it('hints in the row when a budgeted ticket locks at its pace, and only there', async () => {
    mockedList.mockResolvedValue([{ ...tickets[0], forecast_lock_on: '2026-12-10' }, tickets[1]]);
    render(App);
    await rows();

    expect(within(rowFor(101)).getByTestId('row-forecast').textContent).toBe('locks ~Thu 10 Dec');
    expect(within(rowFor(102)).queryByTestId('row-forecast')).toBeNull();
  });

  it('renders a hostile subject as inert text', async () => {
    const payload = '<img src=x onerror="window.__xss=1">';
    mockedList.mockResolvedValue([ticket({ number: 9, subject: payload, client: payload })]);
    render(App);
    const [row] = await rows();

    expect(row.querySelector('img'), 'markup in user data must never become elements').toBeNull();
    expect(document.querySelector('img')).toBeNull();
    expect(within(row).getAllByText(payload), 'subject and client show the payload verbatim').toHaveLength(2);
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
  });

  it('shows the empty state with a hint when there are no tickets', async () => {
    mockedList.mockResolvedValue([]);
    render(App);

    expect(await screen.findByText('No tickets yet')).toBeTruthy();
    expect(screen.getByText('tickettime ticket create --subject …')).toBeTruthy();
  });

  it('shows the error message from a failed command in an alert', async () => {
    mockedList.mockRejectedValue({ code: 'database', message: 'Could not open the database at /tmp/x.db' });
    render(App);

    const alert = await screen.findByRole('alert');
    expect(alert.textContent).toContain('Could not open the database at /tmp/x.db');
    expect(screen.queryByTestId('ticket-list')).toBeNull();
  });

  it('retries after an error and shows the tickets', async () => {
    mockedList.mockRejectedValueOnce({ code: 'database', message: 'busy' }).mockResolvedValueOnce(tickets);
    render(App);

    await fireEvent.click(await screen.findByRole('button', { name: 'Retry' }));
    expect(await rows()).toHaveLength(3);
    expect(screen.queryByRole('alert'), 'a successful retry clears the banner').toBeNull();
  });
});

describe('App views', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
  });

  it('leaving a ticket for the timesheet never asks for a timeline of no ticket', async () => {
    mockedList.mockResolvedValue(tickets);
    vi.mocked(api.getTicket).mockImplementation(async (number) => detailFixture({}, { number }));
    render(App);
    await rows();
    await fireEvent.click(within(rowFor(101)).getByText('#101'));
    await screen.findByTestId('ticket-view');
    await fireEvent.click(screen.getByTestId('open-timesheet'));
    await screen.findByTestId('timesheet-view');
    for (const [number] of vi.mocked(api.timeline).mock.calls) {
      expect(number, 'every timeline asked for is a ticket').toEqual(expect.any(Number));
    }
    expect(screen.queryByTestId('error-banner')).toBeNull();
  });
});
