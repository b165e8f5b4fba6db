import { describe, expect, it } from 'vitest';
import { ticket } from '../fixtures';
import { formatHours } from './hours';
import { formatClock } from './format';
import { filterTickets, formatPercent, hasBudget, matchesQuery, timerText } from './tickets';

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

  it('shows the core\'s exact hours without trailing zeros', () => {
    expect(formatHours('3.00')).toBe('3');
    expect(formatHours('3.50')).toBe('3.5');
    expect(formatHours('0.07')).toBe('0.07');
    expect(formatHours('-1.50')).toBe('-1.5');
    expect(formatHours(null)).toBe('—');
  });

  it('treats a zero budget as no budget', () => {
    expect(hasBudget(ticket({ budget_hours: '0.00' }))).toBe(false);
    expect(hasBudget(ticket({ budget_hours: null }))).toBe(false);
    expect(hasBudget(ticket({ budget_hours: '0.25' }))).toBe(true);
  });

  it('rounds percent down so 74.99 % never reads as the yellow 75 %', () => {
    expect(formatPercent('74.99')).toBe('74%');
    expect(formatPercent('120.00')).toBe('120%');
    expect(formatPercent('0.33')).toBe('0%');
  });

  it('says whose timer runs on a ticket, and since when when that is known', () => {
    const since = '2026-11-23T10:14:00Z';
    const timer = { harvest_user_id: 7, user: 'Ana', harvest_id: 99, since };
    expect(timerText(timer)).toBe(`Ana's timer runs since ${formatClock(since)}`);
    expect(timerText({ ...timer, since: null })).toBe("Ana's timer is running");
  });
});
