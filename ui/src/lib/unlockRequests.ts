// Pure helpers for unlock requests: which one an agent sees and how its
// state reads. No IPC and no DOM here.
import type { UnlockRequest } from '../api';
import { formatHours, isPositive } from './hours';

/** The newest request by `name`: the core sends newest first. */
export function latestBy(requests: UnlockRequest[], name: string | null | undefined): UnlockRequest | null {
  if (!name) return null;
  return requests.find((r) => r.requested_by === name) ?? null;
}

/** Pending requests, optionally only those on one ticket, newest first as given. */
export function pendingOf(requests: UnlockRequest[], ticket?: number): UnlockRequest[] {
  return requests.filter((r) => r.state === 'pending' && (ticket === undefined || r.ticket === ticket));
}

/** Ticket numbers with at least one pending request. */
export function pendingTickets(requests: UnlockRequest[]): number[] {
  return [...new Set(pendingOf(requests).map((r) => r.ticket))];
}

/** One line telling the requester where their request stands. */
export function describeRequest(request: UnlockRequest): string {
  const by = request.answered_by ?? 'a PM';
  switch (request.state) {
    case 'pending':
      return 'Unlock requested — waiting for a PM';
    case 'approved':
      return isPositive(request.extra_granted)
        ? `Approved by ${by}: +${formatHours(request.extra_granted)} h`
        : `Approved by ${by}`;
    case 'denied':
      return request.answer_note ? `Denied by ${by}: ${request.answer_note}` : `Denied by ${by}`;
  }
}

/** Replaces (or adds, first) a request by id, keeping newest first. */
export function upsertRequest(requests: UnlockRequest[], request: UnlockRequest): UnlockRequest[] {
  return [request, ...requests.filter((r) => r.id !== request.id)];
}
