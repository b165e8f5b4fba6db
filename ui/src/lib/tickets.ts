// Pure presentation helpers for tickets: filtering, number formatting and the
// sentences about a ticket's forecast and timers.
// No IPC and no DOM here, so they are trivially testable.
import type { Band, RunningTimer, TicketView, Utilization } from '../api';
import { formatClock } from './format';
import { isPositive } from './hours';

/** Case-insensitive match on number (with or without `#`), subject and client. */
export function matchesQuery(ticket: TicketView, query: string): boolean {
  const q = query.trim().toLowerCase();
  if (q === '') return true;
  const number = q.startsWith('#') ? q.slice(1) : q;
  if (number !== '' && String(ticket.number).includes(number)) return true;
  return (
    ticket.subject.toLowerCase().includes(q) ||
    (ticket.client ?? '').toLowerCase().includes(q)
  );
}

export function filterTickets(tickets: TicketView[], query: string): TicketView[] {
  return tickets.filter((t) => matchesQuery(t, query));
}

/**
 * Whole percent, rounded down like the core's bands (74.99 % is green), so the
 * number shown never contradicts the band next to it.
 */
export function formatPercent(pct: Utilization): string {
  return `${pct.split('.')[0]}%`;
}

/** A zero budget is treated as no budget: nothing to measure against. */
export function hasBudget(ticket: TicketView): ticket is TicketView & { budget_hours: string } {
  return isPositive(ticket.budget_hours);
}

export const BAND_LABEL: Record<Band, string> = {
  green: 'Green',
  yellow: 'Yellow',
  orange: 'Orange',
  red: 'Red',
};

/** The help desk a ticket comes from, as people call it; null for a ticket typed in here. */
export function deskTitle(source: string): string | null {
  switch (source) {
    case 'osticket':
      return 'osTicket';
    case 'zendesk':
      return 'Zendesk';
    default:
      return null;
  }
}

/** "Ana's timer runs since 10:14" (local time), or "Ana's timer is running" when the start is unknown. */
export function timerText(timer: RunningTimer): string {
  return timer.since ? `${timer.user}'s timer runs since ${formatClock(timer.since)}` : `${timer.user}'s timer is running`;
}
