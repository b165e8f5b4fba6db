import { describe, expect, it } from 'vitest';
import { ticket } from '../fixtures';
import { budgeted, DEFAULT_SORT, nextSort, sortBudgets } from './budgetSort';

const rows = [
  ticket({ number: 1, subject: 'beta', utilization_pct: '92.50', band: 'orange', hours_used: '9.25', forecast_lock_on: '2026-12-10' }),
  ticket({ number: 2, subject: 'Alpha', utilization_pct: '120.00', band: 'red', hours_used: '12.00', locked: true }),
  ticket({ number: 3, subject: 'gamma', utilization_pct: '9.00', band: 'green', hours_used: '0.90', forecast_lock_on: '2026-12-01' }),
];

const numbers = (list: { number: number }[]) => list.map((t) => t.number);

describe('budgets overview', () => {
  it('keeps only tickets with a budget to measure against', () => {
    const none = ticket({ number: 4, budget_hours: null, utilization_pct: null, band: null });
    const zero = ticket({ number: 5, budget_hours: '0.00', utilization_pct: null, band: null });
    expect(numbers(budgeted([...rows, none, zero]))).toEqual([1, 2, 3]);
  });

  it('puts the fullest first by default', () => {
    expect(numbers(sortBudgets(rows, DEFAULT_SORT))).toEqual([2, 1, 3]);
  });

  it('sorts numbers as numbers and subjects without regard to case', () => {
    expect(numbers(sortBudgets(rows, { column: 'used', direction: 'ascending' })), '0.90 < 9.25 < 12.00').toEqual([3, 1, 2]);
    expect(numbers(sortBudgets(rows, { column: 'subject', direction: 'ascending' }))).toEqual([2, 1, 3]);
    expect(numbers(sortBudgets(rows, { column: 'band', direction: 'descending' }))).toEqual([2, 1, 3]);
  });

  it('keeps tickets without a forecast last in both directions', () => {
    expect(numbers(sortBudgets(rows, { column: 'forecast', direction: 'ascending' }))).toEqual([3, 1, 2]);
    expect(numbers(sortBudgets(rows, { column: 'forecast', direction: 'descending' }))).toEqual([1, 3, 2]);
  });

  it('turns the sorted column around and starts another in its own direction', () => {
    expect(nextSort(DEFAULT_SORT, 'utilization')).toEqual({ column: 'utilization', direction: 'ascending' });
    expect(nextSort(DEFAULT_SORT, 'ticket')).toEqual({ column: 'ticket', direction: 'ascending' });
    expect(nextSort({ column: 'ticket', direction: 'ascending' }, 'budget')).toEqual({ column: 'budget', direction: 'descending' });
  });
});
