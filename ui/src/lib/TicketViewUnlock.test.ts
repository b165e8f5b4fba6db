import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { appStateFixture, detailFixture, unlockRequest } from '../fixtures';
import { freshTicketView, input, showTicket } from '../ticket-view-test';
import { setAppState } from './app.svelte';

vi.mock('../api', async (importOriginal) => (await import('../test-api')).mockApi(await importOriginal()));

const XSS = '<img src=x onerror="window.__xss=1">';
const PM = { name: 'Pat PM', email: 'pat@example.com', role: 'pm' as const, account_id: 123456 };

const lockedAgent = () => detailFixture({ can_manage: false }, { locked: true, lock_reason: 'Over' });
const lockedPm = () => detailFixture({ can_manage: true }, { locked: true, lock_reason: 'Over' });

const renderTicket = (detail = lockedAgent(), refresh = 0) => showTicket(detail, refresh);

describe('Unlock requests: agent', () => {
  beforeEach(() => {
    freshTicketView();
  });

  it('offers Request unlock on a locked ticket', async () => {
    renderTicket();
    expect(await screen.findByTestId('request-unlock-button')).toBeTruthy();
    expect(api.unlockRequests, 'the ticket view loads the requests on that ticket').toHaveBeenCalledWith({ number: 1 });
  });

  it('does not offer Request unlock on an unlocked ticket', async () => {
    renderTicket(detailFixture({ can_manage: false }, { locked: false }));
    await screen.findByTestId('sidebar-budget');
    expect(screen.queryByTestId('request-unlock-button')).toBeNull();
    expect(screen.queryByTestId('request-state')).toBeNull();
  });

  it('sends the reason and extra hours, then shows the pending state instead of the button', async () => {
    renderTicket();
    await fireEvent.click(await screen.findByTestId('request-unlock-button'));
    await fireEvent.input(input('request-reason'), { target: { value: '  Client found a second bug ' } });
    await fireEvent.input(input('request-hours'), { target: { value: '1,5' } });
    vi.mocked(api.requestUnlock).mockResolvedValue(unlockRequest({ hours: '1.50' }));
    await fireEvent.click(screen.getByTestId('request-submit'));

    expect(api.requestUnlock).toHaveBeenCalledWith({ number: 1, reason: 'Client found a second bug', hours: '1.5' });
    const state = await screen.findByTestId('request-state');
    expect(state.textContent?.trim()).toBe('Unlock requested — waiting for a PM');
    expect(screen.queryByTestId('request-reason'), 'the form closes').toBeNull();
    expect(screen.queryByTestId('request-unlock-button'), 'no second request while one is pending').toBeNull();
  });

  it('sends null hours when none are asked for', async () => {
    renderTicket();
    await fireEvent.click(await screen.findByTestId('request-unlock-button'));
    await fireEvent.input(input('request-reason'), { target: { value: 'Need more time' } });
    vi.mocked(api.requestUnlock).mockResolvedValue(unlockRequest({ hours: null }));
    await fireEvent.click(screen.getByTestId('request-submit'));
    expect(api.requestUnlock).toHaveBeenCalledWith({ number: 1, reason: 'Need more time', hours: null });
  });

  it('requires a reason and valid extra hours before sending', async () => {
    renderTicket();
    await fireEvent.click(await screen.findByTestId('request-unlock-button'));
    await fireEvent.click(screen.getByTestId('request-submit'));
    expect(api.requestUnlock, 'a reason is required').not.toHaveBeenCalled();

    await fireEvent.input(input('request-reason'), { target: { value: 'More work' } });
    for (const bad of ['0', '-1', 'abc', '1.255']) {
      await fireEvent.input(input('request-hours'), { target: { value: bad } });
      expect(input('request-hours').getAttribute('aria-invalid'), `${bad} is flagged`).toBe('true');
      await fireEvent.click(screen.getByTestId('request-submit'));
      expect(screen.getByText(/more than 0|at most two decimals/)).toBeTruthy();
    }
    expect(api.requestUnlock, 'nothing invalid reaches the core').not.toHaveBeenCalled();

    await fireEvent.input(input('request-hours'), { target: { value: '0.1' } });
    expect(input('request-hours').getAttribute('aria-invalid'), 'extra hours are not quarter steps').toBe('false');
  });

  it('shows its own pending request when the ticket loads', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ id: 9, requested_by: 'Someone Else', state: 'denied', answered_by: 'Pat', answer_note: 'no' }),
      unlockRequest({ id: 8 }),
    ]);
    renderTicket();
    const state = await screen.findByTestId('request-state');
    expect(state.textContent?.trim(), "only the current user's requests count").toBe('Unlock requested — waiting for a PM');
    expect(screen.queryByTestId('request-unlock-button')).toBeNull();
  });

  it('shows a denial with the note and lets the agent ask again', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ state: 'denied', answered_by: 'Pat PM', answer_note: 'Quote first' }),
    ]);
    renderTicket();
    expect((await screen.findByTestId('request-state')).textContent?.trim()).toBe('Denied by Pat PM: Quote first');
    expect(screen.getByTestId('request-unlock-button')).toBeTruthy();
  });

  it('shows an approval with the hours granted, also once the ticket is unlocked', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ state: 'approved', answered_by: 'Pat PM', extra_granted: '2.50' }),
    ]);
    renderTicket(detailFixture({ can_manage: false }, { locked: false }));
    expect((await screen.findByTestId('request-state')).textContent?.trim()).toBe('Approved by Pat PM: +2.5 h');
    expect(screen.queryByTestId('request-unlock-button')).toBeNull();
  });

  it('refreshes the request when the ticket changes', async () => {
    const { rerender } = renderTicket();
    await screen.findByTestId('request-unlock-button');
    expect(api.unlockRequests).toHaveBeenCalledTimes(1);

    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ state: 'approved', answered_by: 'Pat PM', extra_granted: '2.00' }),
    ]);
    vi.mocked(api.getTicket).mockResolvedValue(detailFixture({ can_manage: false }, { locked: false }));
    await rerender({ refresh: 1 });

    expect(api.unlockRequests).toHaveBeenCalledTimes(2);
    await waitFor(() => expect(screen.getByTestId('request-state').textContent?.trim()).toBe('Approved by Pat PM: +2 h'));
  });

  it('never shows approve or deny to an agent', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest(), unlockRequest({ id: 2, requested_by: 'Other' })]);
    renderTicket();
    await screen.findByTestId('request-state');
    expect(screen.queryByTestId('unlock-requests')).toBeNull();
    expect(screen.queryByTestId('approve-request')).toBeNull();
    expect(screen.queryByTestId('deny-request')).toBeNull();
  });

  it('renders a hostile reason or note as text', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ state: 'denied', answered_by: XSS, answer_note: XSS, reason: XSS }),
    ]);
    const { container } = renderTicket();
    const state = await screen.findByTestId('request-state');
    expect(state.textContent).toContain(`Denied by ${XSS}: ${XSS}`);
    expect(container.querySelector('img')).toBeNull();
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
  });
});

describe('Unlock requests: PM', () => {
  beforeEach(() => {
    freshTicketView();
    setAppState(appStateFixture({ me: PM }));
    delete (window as unknown as { __xss?: number }).__xss;
  });

  it('lists the pending requests on the ticket with who, reason and hours asked', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ id: 3, requested_by: 'Sam Agent', reason: 'Second bug', hours: '2.00' }),
      unlockRequest({ id: 2, requested_by: 'Alex', reason: 'Old one', state: 'denied', answered_by: 'Pat PM' }),
    ]);
    renderTicket(lockedPm());

    const list = await screen.findByTestId('unlock-requests');
    const items = within(list).getAllByTestId('unlock-request');
    expect(items, 'only pending requests').toHaveLength(1);
    expect(items[0].textContent).toContain('Sam Agent');
    expect(items[0].textContent).toContain('Second bug');
    expect(items[0].textContent).toContain('+2 h');
    expect((within(items[0]).getByTestId('approve-extra') as HTMLInputElement).value, 'prefilled with the hours asked').toBe('2');
    expect(screen.queryByTestId('request-unlock-button'), 'a PM unlocks directly').toBeNull();
    expect(screen.getByTestId('unlock-button')).toBeTruthy();
  });

  it('approves with the extra hours and refreshes the ticket', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 3, hours: '2.00' })]);
    renderTicket(lockedPm());
    await screen.findByTestId('unlock-request');
    await fireEvent.input(input('approve-extra'), { target: { value: '3.5' } });

    vi.mocked(api.answerUnlockRequest).mockResolvedValue(
      unlockRequest({ id: 3, state: 'approved', answered_by: 'Pat PM', extra_granted: '3.50' }),
    );
    vi.mocked(api.unlockRequests).mockResolvedValue([
      unlockRequest({ id: 3, state: 'approved', answered_by: 'Pat PM', extra_granted: '3.50' }),
    ]);
    vi.mocked(api.getTicket).mockResolvedValue(detailFixture({ can_manage: true }, { locked: false, extra_hours: '3.50' }));
    await fireEvent.click(screen.getByTestId('approve-request'));

    expect(api.answerUnlockRequest).toHaveBeenCalledWith({ id: 3, approve: true, extra_hours: '3.5', note: null });
    await waitFor(() => expect(screen.queryByTestId('unlock-requests')).toBeNull());
    await waitFor(() => expect(screen.queryByTestId('lock-reason'), 'the ticket is refetched').toBeNull());
    expect(api.getTicket).toHaveBeenCalledTimes(2);
  });

  it('approves with the prefilled hours asked for', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 4, hours: '1.25' })]);
    renderTicket(lockedPm());
    await screen.findByTestId('unlock-request');
    vi.mocked(api.answerUnlockRequest).mockResolvedValue(unlockRequest({ id: 4, state: 'approved' }));
    await fireEvent.click(screen.getByTestId('approve-request'));
    expect(api.answerUnlockRequest).toHaveBeenCalledWith({ id: 4, approve: true, extra_hours: '1.25', note: null });
  });

  it('does not approve invalid extra hours', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 4 })]);
    renderTicket(lockedPm());
    await screen.findByTestId('unlock-request');
    await fireEvent.input(input('approve-extra'), { target: { value: '0' } });
    await fireEvent.click(screen.getByTestId('approve-request'));
    expect(api.answerUnlockRequest).not.toHaveBeenCalled();
    expect(screen.getByText(/more than 0/)).toBeTruthy();
  });

  it('denies with the note', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 5 })]);
    renderTicket(lockedPm());
    await screen.findByTestId('unlock-request');
    await fireEvent.input(input('deny-note'), { target: { value: ' Quote first ' } });
    const denied = unlockRequest({ id: 5, state: 'denied', answered_by: 'Pat PM', answer_note: 'Quote first' });
    vi.mocked(api.answerUnlockRequest).mockResolvedValue(denied);
    vi.mocked(api.unlockRequests).mockResolvedValue([denied]);
    await fireEvent.click(screen.getByTestId('deny-request'));

    expect(api.answerUnlockRequest).toHaveBeenCalledWith({ id: 5, approve: false, extra_hours: null, note: 'Quote first' });
    await waitFor(() => expect(screen.queryByTestId('unlock-request')).toBeNull());
  });

  it('denies without a note', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 6 })]);
    renderTicket(lockedPm());
    await screen.findByTestId('unlock-request');
    vi.mocked(api.answerUnlockRequest).mockResolvedValue(unlockRequest({ id: 6, state: 'denied' }));
    await fireEvent.click(screen.getByTestId('deny-request'));
    expect(api.answerUnlockRequest).toHaveBeenCalledWith({ id: 6, approve: false, extra_hours: null, note: null });
  });

  it('shows a failed answer and keeps the request', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ id: 7 })]);
    renderTicket(lockedPm());
    await screen.findByTestId('unlock-request');
    vi.mocked(api.answerUnlockRequest).mockRejectedValue({ code: 'forbidden', message: 'Only a PM can answer.' });
    await fireEvent.click(screen.getByTestId('approve-request'));
    expect(await screen.findByText('Only a PM can answer.', { selector: '.field-error' })).toBeTruthy();
    expect(screen.getByTestId('unlock-request')).toBeTruthy();
  });

  it('renders a hostile reason and requester as text', async () => {
    vi.mocked(api.unlockRequests).mockResolvedValue([unlockRequest({ reason: XSS, requested_by: XSS })]);
    const { container } = renderTicket(lockedPm());
    const item = await screen.findByTestId('unlock-request');
    expect(within(item).getAllByText(XSS, { exact: false }).length).toBeGreaterThanOrEqual(1);
    expect(item.textContent).toContain(XSS);
    expect(container.querySelector('img, script')).toBeNull();
    expect([...container.querySelectorAll('*')].some((el) => [...el.attributes].some((a) => a.name.startsWith('on')))).toBe(
      false,
    );
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
  });
});
