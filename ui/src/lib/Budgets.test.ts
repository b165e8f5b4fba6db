import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { ticket } from '../fixtures';
import { installApiDefaults } from '../test-api';
import Budgets from './Budgets.svelte';
import { clearError } from './errors.svelte';

vi.mock('../api', async (importOriginal) => (await import('../test-api')).mockApi(await importOriginal()));

const tickets = [
  ticket({ number: 1, subject: 'Fix login', utilization_pct: '25.00', band: 'green', hours_used: '2.50' }),
  ticket({
    number: 2,
    subject: 'Migrate invoices',
    utilization_pct: '120.00',
    band: 'red',
    hours_used: '12.00',
    locked: true,
  }),
  ticket({ number: 3, subject: 'Audit', utilization_pct: '92.50', band: 'orange', hours_used: '9.25', forecast_lock_on: '2026-12-10' }),
  ticket({ number: 4, subject: 'No budget', budget_hours: null, utilization_pct: null, band: null }),
];

const order = () => screen.getAllByTestId('budget-row').map((r) => Number(r.dataset.number));
const header = (name: string) => screen.getByRole('columnheader', { name: new RegExp(`^${name}`) });

describe('Budgets', () => {
  beforeEach(() => {
    installApiDefaults(api);
    clearError();
  });

  it('lists the budgeted tickets, fullest first, with band, forecast and lock', () => {
    render(Budgets, { tickets, onopen: vi.fn(), onback: vi.fn() });
    expect(order(), 'no budget, no row; highest utilization first').toEqual([2, 3, 1]);
    expect(header('Utilization').getAttribute('aria-sort')).toBe('descending');
    expect(header('Ticket').hasAttribute('aria-sort')).toBe(false);

    const [locked, audit] = screen.getAllByTestId('budget-row');
    expect(within(locked).getByTestId('budget-locked').textContent).toBe('Locked');
    expect(within(locked).getByText('Red'), 'the band by name').toBeTruthy();
    expect(within(audit).queryByTestId('budget-locked')).toBeNull();
    expect(audit.textContent).toContain('Thu 10 Dec');
    expect(audit.textContent).toContain('92.50 %');
    expect(audit.textContent).toContain('9.25 h');
  });

  it('sorts by a clicked header, and turns it around on a second click', async () => {
    render(Budgets, { tickets, onopen: vi.fn(), onback: vi.fn() });
    const subject = within(header('Subject')).getByRole('button');
    await fireEvent.click(subject);
    expect(order()).toEqual([3, 1, 2]);
    expect(header('Subject').getAttribute('aria-sort')).toBe('ascending');
    expect(header('Utilization').hasAttribute('aria-sort')).toBe(false);
    await fireEvent.click(subject);
    expect(order()).toEqual([2, 1, 3]);
    expect(header('Subject').getAttribute('aria-sort')).toBe('descending');
  });

  it('makes every header a button, so the keyboard sorts too', () => {
    render(Budgets, { tickets, onopen: vi.fn(), onback: vi.fn() });
    for (const th of screen.getAllByRole('columnheader')) {
      expect(within(th).getByRole('button').tagName, 'a native button takes Enter and Space').toBe('BUTTON');
    }
  });

  it('opens a ticket from its number', async () => {
    const onopen = vi.fn();
    render(Budgets, { tickets, onopen, onback: vi.fn() });
    await fireEvent.click(screen.getByRole('button', { name: '#3' }));
    expect(onopen).toHaveBeenCalledWith(3);
  });

  it('says when no ticket has a budget', () => {
    render(Budgets, { tickets: [tickets[3]], onopen: vi.fn(), onback: vi.fn() });
    expect(screen.getByTestId('budgets-empty')).toBeTruthy();
  });

  it('exports the overview as CSV and says where it went', async () => {
    vi.mocked(api.exportBudgets).mockResolvedValue({ path: '/home/pat/Downloads/budgets.csv' });
    render(Budgets, { tickets, onopen: vi.fn(), onback: vi.fn() });
    await fireEvent.click(screen.getByTestId('export-budgets'));
    await waitFor(() => expect(screen.getByTestId('export-saved').textContent).toBe('Saved to /home/pat/Downloads/budgets.csv'));
  });
});
