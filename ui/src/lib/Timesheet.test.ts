import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { appStateFixture, gap, timesheetFixture } from '../fixtures';
import { installApiDefaults } from '../test-api';
import { setAppState } from './app.svelte';
import { clearError } from './errors.svelte';
import { formatDayTime } from './format';
import Timesheet from './Timesheet.svelte';

vi.mock('../api', async (importOriginal) => (await import('../test-api')).mockApi(await importOriginal()));

const week48 = timesheetFixture(
  { total: '6.50' },
  {
    0: {
      total: '2.00',
      lines: [
        { ticket: 12, subject: 'Fix login', hours: '1.50', notes: ['Traced the redirect', 'Fixed <b>it</b>'] },
        { ticket: null, subject: null, hours: '0.50', notes: [] },
      ],
    },
    2: { total: '4.50', lines: [{ ticket: 14, subject: 'Invoices', hours: '4.50', notes: ['Export'] }] },
  },
);
const week47 = timesheetFixture({ week: '2026-W47', previous: '2026-W46', next: '2026-W48' });
const week49 = timesheetFixture({ week: '2026-W49', previous: '2026-W48', next: '2026-W50' });

const pm = appStateFixture({ me: { name: 'Pat', email: 'pat@example.com', role: 'pm', account_id: 1 } });

function show(onopen = vi.fn()) {
  render(Timesheet, { onopen, onback: vi.fn() });
  return onopen;
}

const week = () => screen.getByTestId('timesheet-week').textContent;

describe('Timesheet', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
    setAppState(appStateFixture());
    vi.mocked(api.timesheet).mockImplementation(async (w) => (w === '2026-W47' ? week47 : w === '2026-W49' ? week49 : week48));
  });

  it("shows this week's label, person, bars, lines with their notes and the totals", async () => {
    show();
    expect((await screen.findByTestId('timesheet-week')).textContent).toBe('2026-W48');
    expect(api.timesheet, 'this week, my own').toHaveBeenCalledWith(null, null);
    expect(screen.getByTestId('timesheet-person').textContent).toBe('Sam Agent');

    const bars = screen.getAllByTestId('timesheet-bar');
    expect(bars.map((b) => b.getAttribute('aria-label'))).toEqual([
      'Mon 23 Nov: 2.00 h',
      'Tue 24 Nov: 0.00 h',
      'Wed 25 Nov: 4.50 h',
      'Thu 26 Nov: 0.00 h',
      'Fri 27 Nov: 0.00 h',
      'Sat 28 Nov: 0.00 h',
      'Sun 29 Nov: 0.00 h',
    ]);
    const height = (i: number) => Number(bars[i].querySelector('rect')?.getAttribute('height'));
    expect(height(2), 'the largest day fills its bar').toBe(100);
    expect(height(0), 'others in proportion').toBeCloseTo((2 / 4.5) * 100);
    expect(height(1)).toBe(0);

    const monday = within(screen.getAllByTestId('timesheet-day')[0]);
    expect(monday.getByTestId('timesheet-day-total').textContent).toBe('2.00');
    const lines = monday.getAllByTestId('timesheet-line');
    expect(lines[0].textContent).toContain('#12');
    expect(lines[0].textContent).toContain('Fix login');
    expect(lines[0].textContent).toContain('1.50');
    expect(lines[0].textContent, 'notes joined, as text').toContain('Traced the redirect; Fixed <b>it</b>');
    expect(lines[1].textContent).toContain('Not on a ticket');
    expect(document.querySelector('b')).toBeNull();
    expect(screen.getByTestId('timesheet-total').textContent).toBe('6.50');
  });

  it('pages with the buttons, the arrow keys and PageUp/PageDown, and comes back to this week', async () => {
    show();
    await screen.findByTestId('timesheet-week');
    await fireEvent.click(screen.getByTestId('timesheet-prev'));
    await waitFor(() => expect(week()).toBe('2026-W47'));
    expect(api.timesheet).toHaveBeenLastCalledWith('2026-W47', null);

    await fireEvent.keyDown(window, { key: 'ArrowRight' });
    await waitFor(() => expect(week()).toBe('2026-W48'));
    await fireEvent.keyDown(window, { key: 'PageDown' });
    await waitFor(() => expect(week()).toBe('2026-W49'));
    await fireEvent.keyDown(window, { key: 'PageUp' });
    await waitFor(() => expect(week()).toBe('2026-W48'));
    await fireEvent.keyDown(window, { key: 'ArrowLeft' });
    await waitFor(() => expect(week()).toBe('2026-W47'));

    await fireEvent.click(screen.getByTestId('timesheet-next'));
    await waitFor(() => expect(week()).toBe('2026-W48'));
    await fireEvent.click(screen.getByRole('button', { name: 'This week' }));
    expect(api.timesheet).toHaveBeenLastCalledWith(null, null);
  });

  it('leaves the arrow keys to a text field and to a dialog on top', async () => {
    setAppState(pm);
    show();
    await screen.findByTestId('timesheet-week');
    const calls = vi.mocked(api.timesheet).mock.calls.length;
    await fireEvent.keyDown(screen.getByTestId('timesheet-user'), { key: 'ArrowLeft' });

    const modal = document.createElement('div');
    modal.setAttribute('aria-modal', 'true');
    document.body.append(modal);
    await fireEvent.keyDown(window, { key: 'PageUp' });
    modal.remove();

    expect(vi.mocked(api.timesheet).mock.calls.length).toBe(calls);
    expect(week()).toBe('2026-W48');
  });

  it("lets a PM read someone else's week and pages through it", async () => {
    setAppState(pm);
    show();
    await screen.findByTestId('timesheet-week');
    const person = screen.getByLabelText('Person (email)');
    await fireEvent.input(person, { target: { value: ' ana@example.com ' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Show' }));
    expect(api.timesheet).toHaveBeenLastCalledWith('2026-W48', 'ana@example.com');
    await waitFor(() => expect(screen.queryByTestId('gaps-list'), "gaps are one's own").toBeNull());

    await fireEvent.click(screen.getByTestId('timesheet-prev'));
    expect(api.timesheet).toHaveBeenLastCalledWith('2026-W47', 'ana@example.com');
  });

  it('shows the refusal when the core forbids reading that week, and keeps the week shown', async () => {
    setAppState(pm);
    show();
    await screen.findByTestId('timesheet-week');
    vi.mocked(api.timesheet).mockRejectedValueOnce({ code: 'forbidden', message: 'Only PMs and admins read another person’s week.' });
    await fireEvent.input(screen.getByLabelText('Person (email)'), { target: { value: 'ana@example.com' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Show' }));
    expect((await screen.findByTestId('timesheet-error')).textContent).toBe('Only PMs and admins read another person’s week.');
    expect(week()).toBe('2026-W48');
    expect(screen.getByTestId('gaps-list'), 'still my own week').toBeTruthy();
  });

  it('offers agents no other person', async () => {
    show();
    await screen.findByTestId('timesheet-week');
    expect(screen.queryByLabelText('Person (email)')).toBeNull();
  });

  it('says so when a week is empty', async () => {
    vi.mocked(api.timesheet).mockResolvedValue(week47);
    show();
    expect((await screen.findByTestId('timesheet-empty')).textContent).toContain('No time logged');
    expect(screen.queryAllByTestId('timesheet-bar')).toHaveLength(0);
  });

  it('opens a ticket from its line', async () => {
    const onopen = show();
    await fireEvent.click(await screen.findByRole('button', { name: '#14' }));
    expect(onopen).toHaveBeenCalledWith(14);
  });
});

describe('Timesheet → gaps', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
    setAppState(appStateFixture());
  });

  it('lists the replies and notes without time of the last 7 days', async () => {
    vi.mocked(api.gaps).mockResolvedValue([gap(), gap({ ticket: 14, kind: 'note', at: '2026-11-24T09:30:00Z', date: '2026-11-24' })]);
    show();
    const rows = await screen.findAllByTestId('gap-row');
    expect(api.gaps).toHaveBeenCalledWith(7);
    expect(rows[0].textContent?.replace(/\s+/g, ' ')).toContain(`#12 VPN drops · ${formatDayTime('2026-11-23T14:05:00Z')} · reply without time`);
    expect(rows[1].textContent?.replace(/\s+/g, ' ')).toContain('note without time');
  });

  it('logs 0.25 h on the day of a gap, reloads, and says it went out', async () => {
    vi.mocked(api.gaps).mockResolvedValueOnce([gap()]).mockResolvedValueOnce([]);
    vi.mocked(api.logGap).mockResolvedValue({ state: 'queued', harvest_id: null, message: null });
    show();
    await fireEvent.click(await screen.findByTestId('log-gap'));
    expect(api.logGap).toHaveBeenCalledWith(12, '2026-11-23');
    await waitFor(() => expect(screen.queryByTestId('gap-row')).toBeNull());
    expect(screen.getByTestId('gap-status').textContent).toBe('Waiting for Harvest (it goes out on its own): 0.25 h on #12 (Mon 23 Nov).');
    expect(screen.getByTestId('gaps-empty')).toBeTruthy();
  });

  it('shows a refusal and keeps the gap', async () => {
    vi.mocked(api.gaps).mockResolvedValue([gap()]);
    vi.mocked(api.logGap).mockRejectedValue({ code: 'locked', message: 'Ticket #12 is locked.' });
    show();
    await fireEvent.click(await screen.findByTestId('log-gap'));
    expect((await screen.findByTestId('gap-error')).textContent).toBe('Ticket #12 is locked.');
    expect(screen.getAllByTestId('gap-row')).toHaveLength(1);
  });

  it('opens the ticket of a gap', async () => {
    vi.mocked(api.gaps).mockResolvedValue([gap()]);
    const onopen = show();
    const row = await screen.findByTestId('gap-row');
    await fireEvent.click(within(row).getByRole('button', { name: '#12' }));
    expect(onopen).toHaveBeenCalledWith(12);
  });
});
