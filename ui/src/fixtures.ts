// Ticket fixtures for tests: a valid `TicketView` with overrides.
import type { TicketView } from './api';

export function ticket(overrides: Partial<TicketView> = {}): TicketView {
  return {
    number: 1,
    subject: 'Fix login redirect',
    status: 'open',
    client: 'Acme',
    agent: 'Sam',
    pm: 'Pat',
    harvest_project_id: 4_200_000_001,
    harvest_project_name: 'Acme support',
    budget_hours: 10,
    quoted_hours: 8,
    hours_used: 2.5,
    extra_hours: 0,
    utilization_pct: 25,
    band: 'green',
    locked: false,
    lock_reason: null,
    ...overrides,
  };
}
