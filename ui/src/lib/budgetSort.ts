// The budgets overview's rows and their order: tickets with a budget,
// sorted by a column. Pure, so the order is tested without a DOM.
import type { Band, TicketView } from '../api';
import { hundredthsOf } from './hours';
import { hasBudget } from './tickets';

export type BudgetColumn = 'ticket' | 'subject' | 'band' | 'utilization' | 'used' | 'budget' | 'forecast';
/** As `aria-sort` names them. */
export type SortDirection = 'ascending' | 'descending';
export interface BudgetSort {
  column: BudgetColumn;
  direction: SortDirection;
}

/** The fullest first: what needs attention. */
export const DEFAULT_SORT: BudgetSort = { column: 'utilization', direction: 'descending' };

/** A column's first direction: amounts start with the largest, names and dates with the first. */
const FIRST: Record<BudgetColumn, SortDirection> = {
  ticket: 'ascending',
  subject: 'ascending',
  band: 'descending',
  utilization: 'descending',
  used: 'descending',
  budget: 'descending',
  forecast: 'ascending',
};

const BAND_RANK: Record<Band, number> = { green: 0, yellow: 1, orange: 2, red: 3 };

/** Tickets that have a utilization, i.e. a budget to measure against. */
export function budgeted(tickets: TicketView[]): TicketView[] {
  return tickets.filter((t) => hasBudget(t) && t.utilization_pct !== null);
}

/** Clicking the sorted column turns it around; another column starts in its own first direction. */
export function nextSort(current: BudgetSort, column: BudgetColumn): BudgetSort {
  if (current.column === column) {
    return { column, direction: current.direction === 'ascending' ? 'descending' : 'ascending' };
  }
  return { column, direction: FIRST[column] };
}

/** The value a column sorts by; null sorts last whichever the direction. */
function key(ticket: TicketView, column: BudgetColumn): number | string | null {
  switch (column) {
    case 'ticket':
      return ticket.number;
    case 'subject':
      return ticket.subject.toLowerCase();
    case 'band':
      return ticket.band === null ? null : BAND_RANK[ticket.band];
    case 'utilization':
      return ticket.utilization_pct === null ? null : hundredthsOf(ticket.utilization_pct);
    case 'used':
      return hundredthsOf(ticket.hours_used);
    case 'budget':
      return ticket.budget_hours === null ? null : hundredthsOf(ticket.budget_hours);
    case 'forecast':
      return ticket.forecast_lock_on;
  }
}

function compare(a: number | string, b: number | string): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  return String(a).localeCompare(String(b));
}

/** A sorted copy; equal keys keep ticket-number order. */
export function sortBudgets(tickets: TicketView[], sort: BudgetSort): TicketView[] {
  const sign = sort.direction === 'ascending' ? 1 : -1;
  return [...tickets].sort((x, y) => {
    const a = key(x, sort.column);
    const b = key(y, sort.column);
    if (a === null || b === null) {
      if (a !== b) return a === null ? 1 : -1;
    } else {
      const order = compare(a, b);
      if (order !== 0) return sign * order;
    }
    return x.number - y.number;
  });
}
