import { describe, expect, it } from 'vitest';
import { ticket } from '../fixtures';
import { filterTickets, formatHours, formatPercent, hasBudget, matchesQuery } from './tickets';

describe('tickets helpers', () => {
  it('matches a number with or without the hash', () => {
    const t = ticket({ number: 1234 });
    expect(matchesQuery(t, '123')).toBe(true);
    expect(matchesQuery(t, '#1234')).toBe(true);
    expect(matchesQuery(t, '#999')).toBe(false);
  });

  it('matches subject and client case-insensitively and tolerates a missing client', () => {
    const t = ticket({ subject: 'Fix Login', client: null });
    expect(matchesQuery(t, 'login')).toBe(true);
    expect(matchesQuery(t, 'acme')).toBe(false);
  });

  it('keeps everything for a blank query', () => {
    expect(filterTickets([ticket(), ticket({ number: 2 })], '   ')).toHaveLength(2);
  });

  it('formats hours with at most two decimals', () => {
    expect(formatHours(3)).toBe('3');
    expect(formatHours(3.5)).toBe('3.5');
    expect(formatHours(1 / 3)).toBe('0.33');
  });

  it('treats a zero budget as no budget', () => {
    expect(hasBudget(ticket({ budget_hours: 0 }))).toBe(false);
    expect(hasBudget(ticket({ budget_hours: null }))).toBe(false);
    expect(hasBudget(ticket({ budget_hours: 0.25 }))).toBe(true);
  });

  it('rounds percent down so 74.99 % never reads as the yellow 75 %', () => {
    expect(formatPercent(74.99)).toBe('74%');
    expect(formatPercent(120)).toBe('120%');
    expect(formatPercent(0.33)).toBe('0%');
  });
});
