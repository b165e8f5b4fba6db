import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { detailFixture } from '../fixtures';
import { freshTicketView, input, showTicket } from '../ticket-view-test';
import { formatClock } from './format';

vi.mock('../api', async (importOriginal) => (await import('../test-api')).mockApi(await importOriginal()));

const ana = { harvest_user_id: 7, user: 'Ana', harvest_id: 901, since: '2026-11-23T10:14:00Z' };

describe('TicketView: forecast, other timers and export', () => {
  beforeEach(() => freshTicketView());

  it('says in the sidebar when the ticket locks at this pace, as a calendar date', async () => {
    showTicket(detailFixture({}, { forecast_lock_on: '2026-12-10' }));
    expect((await screen.findByTestId('forecast')).textContent?.trim()).toBe('Locks around Thu 10 Dec at this pace');
  });

  it('shows no forecast without one', async () => {
    showTicket(detailFixture());
    await screen.findByTestId('sidebar-utilization');
    expect(screen.queryByTestId('forecast')).toBeNull();
  });

  it("names someone else's running timer and since when", async () => {
    showTicket(
      detailFixture({
        others_running: [ana, { harvest_user_id: 8, user: 'Bo <b>', harvest_id: 902, since: null }],
      }),
    );
    const notice = await screen.findByTestId('others-timer');
    expect(notice.getAttribute('role')).toBe('status');
    expect(notice.textContent).toContain(`Ana's timer runs since ${formatClock(ana.since)}`);
    expect(notice.textContent, 'without a start, just that it runs').toContain("Bo <b>'s timer is running");
    expect(notice.querySelector('b'), 'a name is text, never markup').toBeNull();
  });

  it('shows no notice when nobody else times the ticket', async () => {
    showTicket(detailFixture());
    await screen.findByTestId('sidebar-utilization');
    expect(screen.queryByTestId('others-timer')).toBeNull();
  });

  it("asks before starting a second timer where someone else's runs, then starts it confirmed", async () => {
    showTicket(detailFixture({ others_running: [ana] }));
    await fireEvent.click(await screen.findByTestId('tab-reply'));
    await fireEvent.click(input('logtime-toggle'));
    vi.mocked(api.timerStart)
      .mockRejectedValueOnce({ code: 'confirm', message: "Ana's timer runs on #1 since 10:14. Start yours too?" })
      .mockResolvedValueOnce({ running: true, ticket: 1, harvest_id: 5, started_at: '2026-11-23T10:20:00Z', elapsed_hours: 0 });
    await fireEvent.click(screen.getByTestId('logtime-timer-start'));

    const dialog = await screen.findByTestId('confirm-dialog');
    expect(dialog.textContent).toContain("Ana's timer runs on #1");
    expect(api.timerStart, 'the first try is unconfirmed').toHaveBeenCalledWith(1, 11, false);
    await fireEvent.click(within(dialog).getByTestId('confirm-yes'));
    expect(api.timerStart).toHaveBeenLastCalledWith(1, 11, true);
    expect(await screen.findByTestId('logtime-timer-stop')).toBeTruthy();
  });

  it('exports the ticket as CSV and says where the file went', async () => {
    vi.mocked(api.exportTicket).mockResolvedValue({ path: '/home/sam/Downloads/ticket-1.csv' });
    showTicket(detailFixture());
    await fireEvent.click(await screen.findByTestId('export-ticket'));
    expect(api.exportTicket).toHaveBeenCalledWith(1);
    expect((await screen.findByTestId('export-saved')).textContent).toBe('Saved to /home/sam/Downloads/ticket-1.csv');
  });

  it('shows why an export failed', async () => {
    vi.mocked(api.exportTicket).mockRejectedValue({ code: 'storage', message: 'No Downloads folder' });
    showTicket(detailFixture());
    await fireEvent.click(await screen.findByTestId('export-ticket'));
    await waitFor(() => expect(screen.getByTestId('export-error').textContent).toBe('No Downloads folder'));
    expect(screen.queryByTestId('export-saved')).toBeNull();
  });
});
