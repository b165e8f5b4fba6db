// Fixtures for tests: valid DTOs with overrides.
import type { AppState, Gap, TicketDetail, TicketView, TimelineItem, TimelinePage, Timesheet, TimesheetDay, UnlockRequest } from './api';
import { defaultSettings } from './lib/settingsForm';

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
    budget_hours: '10.00',
    quoted_hours: '8.00',
    hours_used: '2.50',
    extra_hours: '0.00',
    utilization_pct: '25.00',
    band: 'green',
    locked: false,
    lock_reason: null,
    source: 'local',
    source_number: null,
    source_url: null,
    forecast_lock_on: null,
    running_timers: [],
    ...overrides,
  };
}

export function appStateFixture(overrides: Partial<AppState> = {}): AppState {
  return {
    connection: 'connected',
    me: { name: 'Sam Agent', email: 'sam@example.com', role: 'agent', account_id: 123456 },
    timer: { running: false, ticket: null, harvest_id: null, started_at: null, elapsed_hours: null },
    sync: { last_run_at: null, last_error: null, running: false },
    outbox: { waiting: 0, refused: 0 },
    quarantined: 0,
    settings: {
      ...defaultSettings(),
      global_shortcut: 'CommandOrControl+Shift+T',
    },
    notice: null,
    away: null,
    ...overrides,
  };
}

export function detailFixture(overrides: Partial<TicketDetail> = {}, ticketOverrides: Partial<TicketView> = {}): TicketDetail {
  return {
    ticket: ticket(ticketOverrides),
    can_manage: false,
    project_url: 'https://example.harvestapp.com/projects/4200000001',
    tasks: [
      { id: 11, name: 'Support' },
      { id: 12, name: 'Development' },
    ],
    others_running: [],
    ...overrides,
  };
}

export function item(overrides: Partial<TimelineItem> = {}): TimelineItem {
  return {
    kind: 'message',
    at: '2024-05-03T09:00:00Z',
    author: 'client@acme.test',
    body: 'Hello',
    hours: null,
    spent_date: null,
    harvest_id: null,
    ...overrides,
  };
}

export function pageOf(items: TimelineItem[], start = 0, total = start + items.length): TimelinePage {
  return { items, start, total };
}

export function unlockRequest(overrides: Partial<UnlockRequest> = {}): UnlockRequest {
  return {
    id: 1,
    ticket: 1,
    requested_by: 'Sam Agent',
    reason: 'Client found a second bug',
    hours: '2.00',
    state: 'pending',
    answered_by: null,
    answer_note: null,
    extra_granted: null,
    created_at: '2024-05-03T15:00:00Z',
    ...overrides,
  };
}

/** Week 48 of 2026 (Mon 23 – Sun 29 Nov), empty unless days are given (by index, Monday 0). */
export function timesheetFixture(overrides: Partial<Timesheet> = {}, days: Record<number, Partial<TimesheetDay>> = {}): Timesheet {
  return {
    week: '2026-W48',
    previous: '2026-W47',
    next: '2026-W49',
    person: 'Sam Agent',
    days: Array.from({ length: 7 }, (_, i) => ({
      date: `2026-11-${23 + i}`,
      total: '0.00',
      lines: [],
      ...days[i],
    })),
    total: '0.00',
    ...overrides,
  };
}

export function gap(overrides: Partial<Gap> = {}): Gap {
  return { ticket: 12, subject: 'VPN drops', at: '2026-11-23T14:05:00Z', kind: 'response', date: '2026-11-23', ...overrides };
}
