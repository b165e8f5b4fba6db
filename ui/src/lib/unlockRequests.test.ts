import { describe, expect, it } from 'vitest';
import { unlockRequest } from '../fixtures';
import { describeRequest, latestBy, pendingOf, pendingTickets, upsertRequest } from './unlockRequests';

describe('unlock request helpers', () => {
  it('describes each state for the requester', () => {
    expect(describeRequest(unlockRequest())).toBe('Unlock requested — waiting for a PM');
    expect(describeRequest(unlockRequest({ state: 'approved', answered_by: 'Pat', extra_granted: '2.25' }))).toBe(
      'Approved by Pat: +2.25 h',
    );
    expect(describeRequest(unlockRequest({ state: 'approved', answered_by: 'Pat', extra_granted: null }))).toBe('Approved by Pat');
    expect(describeRequest(unlockRequest({ state: 'denied', answered_by: 'Pat', answer_note: 'Quote first' }))).toBe(
      'Denied by Pat: Quote first',
    );
    expect(describeRequest(unlockRequest({ state: 'denied', answered_by: null, answer_note: null }))).toBe('Denied by a PM');
  });

  it('picks the newest request by a name', () => {
    const list = [unlockRequest({ id: 3, requested_by: 'B' }), unlockRequest({ id: 2 }), unlockRequest({ id: 1 })];
    expect(latestBy(list, 'Sam Agent')?.id).toBe(2);
    expect(latestBy(list, 'Nobody')).toBeNull();
    expect(latestBy(list, null)).toBeNull();
  });

  it('finds pending requests and their tickets', () => {
    const list = [
      unlockRequest({ id: 1, ticket: 5 }),
      unlockRequest({ id: 2, ticket: 5 }),
      unlockRequest({ id: 3, ticket: 6, state: 'approved' }),
      unlockRequest({ id: 4, ticket: 7 }),
    ];
    expect(pendingOf(list, 5).map((r) => r.id)).toEqual([1, 2]);
    expect(pendingTickets(list)).toEqual([5, 7]);
  });

  it('replaces a request by id, newest first', () => {
    const list = [unlockRequest({ id: 2 }), unlockRequest({ id: 1 })];
    expect(upsertRequest(list, unlockRequest({ id: 1, state: 'denied' })).map((r) => [r.id, r.state])).toEqual([
      [1, 'denied'],
      [2, 'pending'],
    ]);
  });
});
