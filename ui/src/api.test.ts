import { invoke } from '@tauri-apps/api/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { listen } from '@tauri-apps/api/event';
import {
  answerAway,
  answerUnlockRequest,
  exportBudgets,
  exportTicket,
  gaps,
  logGap,
  listTickets,
  onOpenTicket,
  requestUnlock,
  submitEntry,
  timeline,
  timerStart,
  timesheet,
  toCommandError,
  unlockRequests,
} from './api';
import { ticket } from './fixtures';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));
vi.mock('@tauri-apps/api/event', () => ({ listen: vi.fn() }));

const mockedInvoke = vi.mocked(invoke);

describe('api', () => {
  beforeEach(() => {
    mockedInvoke.mockReset();
  });

  it('calls the list_tickets command with no arguments', async () => {
    mockedInvoke.mockResolvedValue([ticket()]);

    await expect(listTickets()).resolves.toEqual([ticket()]);
    expect(mockedInvoke).toHaveBeenCalledWith('list_tickets');
  });

  it('passes a command error through unchanged', async () => {
    mockedInvoke.mockRejectedValue({ code: 'database', message: 'locked' });

    await expect(listTickets()).rejects.toEqual({ code: 'database', message: 'locked' });
  });

  it('turns a bare string rejection from Tauri into a command error', async () => {
    mockedInvoke.mockRejectedValue('Command list_tickets not found');

    await expect(listTickets()).rejects.toEqual({ code: 'ipc', message: 'Command list_tickets not found' });
  });

  it('gives unknown failures a readable message', () => {
    expect(toCommandError(42).message).toMatch(/Something went wrong/);
  });

  it('wraps arguments in one `input` object with snake_case fields', async () => {
    mockedInvoke.mockResolvedValue(null);
    await timeline(7, 50, null);
    expect(mockedInvoke).toHaveBeenLastCalledWith('timeline', { input: { number: 7, limit: 50, before: null } });
    await timerStart(7, 11, true);
    expect(mockedInvoke).toHaveBeenLastCalledWith('timer_start', { input: { number: 7, task_id: 11, confirmed: true } });
    const time = { hours: '1.5', task_id: 11, notes: null, timer_entry_id: null };
    await submitEntry(7, 'note', 'text', time);
    expect(mockedInvoke).toHaveBeenLastCalledWith('submit_entry', { input: { number: 7, kind: 'note', body: 'text', time } });
  });

  it('sends the unlock request commands with one `input` object each', async () => {
    mockedInvoke.mockResolvedValue(null);
    await requestUnlock({ number: 7, reason: 'More work', hours: '2.5' });
    expect(mockedInvoke).toHaveBeenLastCalledWith('request_unlock', { input: { number: 7, reason: 'More work', hours: '2.5' } });
    await unlockRequests({ number: null });
    expect(mockedInvoke).toHaveBeenLastCalledWith('unlock_requests', { input: { number: null } });
    await unlockRequests({ number: 7 });
    expect(mockedInvoke).toHaveBeenLastCalledWith('unlock_requests', { input: { number: 7 } });
    await answerUnlockRequest({ id: 3, approve: false, extra_hours: null, note: 'No' });
    expect(mockedInvoke).toHaveBeenLastCalledWith('answer_unlock_request', {
      input: { id: 3, approve: false, extra_hours: null, note: 'No' },
    });
  });

  it('sends the away answer, timesheet, gaps and export commands with one `input` object each', async () => {
    mockedInvoke.mockResolvedValue(null);
    await answerAway({ kind: 'split_to', ticket: 12 });
    expect(mockedInvoke).toHaveBeenLastCalledWith('answer_away', { input: { choice: { kind: 'split_to', ticket: 12 } } });
    await timesheet('2026-W48', 'ana@example.com');
    expect(mockedInvoke).toHaveBeenLastCalledWith('timesheet', { input: { week: '2026-W48', user: 'ana@example.com' } });
    await gaps(7);
    expect(mockedInvoke).toHaveBeenLastCalledWith('gaps', { input: { days: 7, user: null } });
    await logGap(12, '2026-11-23');
    expect(mockedInvoke).toHaveBeenLastCalledWith('log_gap', { input: { number: 12, date: '2026-11-23' } });
    await exportTicket(12);
    expect(mockedInvoke).toHaveBeenLastCalledWith('export_ticket', { input: { number: 12 } });
    await exportBudgets();
    expect(mockedInvoke).toHaveBeenLastCalledWith('export_budgets');
  });

  it('hands an event payload to the handler', async () => {
    const unlisten = () => {};
    vi.mocked(listen).mockImplementation(async (_event, cb) => {
      cb({ event: 'open-ticket', id: 1, payload: 42 } as never);
      return unlisten;
    });
    const seen: number[] = [];
    await expect(onOpenTicket((n) => seen.push(n))).resolves.toBe(unlisten);
    expect(vi.mocked(listen).mock.calls[0][0]).toBe('open-ticket');
    expect(seen).toEqual([42]);
  });
});
