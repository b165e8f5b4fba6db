import { fireEvent, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { appStateFixture, detailFixture, item, pageOf } from '../fixtures';
import { freshTicketView, input, showTicket } from '../ticket-view-test';
import { app, setAppState } from './app.svelte';

vi.mock('../api', async (importOriginal) => (await import('../test-api')).mockApi(await importOriginal()));

const XSS = ['<img src=x onerror="window.__xss=1">', '<script>window.__xss=1</script>', '<a href="javascript:window.__xss=1">click</a>'];

async function openTab(name: 'timeline' | 'reply' | 'note') {
  await fireEvent.click(await screen.findByTestId(`tab-${name}`));
}

const renderTicket = (detail = detailFixture(), refresh = 0) => showTicket(detail, refresh);

describe('TicketView', () => {
  beforeEach(() => {
    freshTicketView();
  });

  it('renders each timeline kind with its label, in the order given, time entries with who/hours/date/notes', async () => {
    vi.mocked(api.timeline).mockResolvedValue(
      pageOf([
        item({ kind: 'message', author: 'client@acme.test', body: 'Login loops' }),
        item({ kind: 'response', author: 'Sam', body: 'Looking into it', at: '2024-05-03T10:00:00Z' }),
        item({ kind: 'time', author: 'Sam Agent', body: 'Traced the redirect', hours: '1.25', spent_date: '2024-05-03', harvest_id: 77 }),
        item({ kind: 'note', author: 'Pat', body: 'Check the proxy', at: '2024-05-03T12:00:00Z' }),
      ]),
    );
    renderTicket();

    await waitFor(() => expect(screen.getAllByTestId('timeline-item')).toHaveLength(4));
    const items = screen.getAllByTestId('timeline-item');
    expect(items.map((i) => i.dataset.kind), 'the core order is kept').toEqual(['message', 'response', 'time', 'note']);
    expect(items.map((i) => i.querySelector('.kind')?.textContent)).toEqual([
      'Client message',
      'Reply',
      'Time entry',
      'Internal note',
    ]);
    const time = within(items[2]);
    expect(time.getByText('Sam Agent')).toBeTruthy();
    expect(time.getByText('1.25 h')).toBeTruthy();
    expect(time.getByText('on 2024-05-03')).toBeTruthy();
    expect(time.getByText('Traced the redirect')).toBeTruthy();
    expect(api.timeline).toHaveBeenCalledWith(1, 50, null);
  });

  it('loads earlier items with the start of what is shown', async () => {
    vi.mocked(api.timeline)
      .mockResolvedValueOnce(pageOf([item({ body: 'newest' })], 50, 51))
      .mockResolvedValueOnce(pageOf([item({ body: 'oldest' })], 49, 51));
    renderTicket();

    await fireEvent.click(await screen.findByRole('button', { name: /Show earlier/ }));
    expect(api.timeline).toHaveBeenLastCalledWith(1, 50, 50);
    await waitFor(() =>
      expect(screen.getAllByTestId('timeline-item').map((i) => i.textContent)).toEqual([
        expect.stringContaining('oldest'),
        expect.stringContaining('newest'),
      ]),
    );
  });

  it('renders hostile subjects, bodies and notes as inert text', async () => {
    vi.mocked(api.timeline).mockResolvedValue(
      pageOf([
        ...XSS.map((body) => item({ kind: 'message', body, author: body })),
        ...XSS.map((body) => item({ kind: 'time', body, hours: '1.00', spent_date: '2024-05-03' })),
      ]),
    );
    const { container } = renderTicket(detailFixture({}, { subject: XSS[0], harvest_project_name: XSS[1] }));

    await waitFor(() => expect(screen.getAllByTestId('timeline-item')).toHaveLength(6));
    expect(container.querySelector('img, script, a[href]'), 'no element may come from user data').toBeNull();
    expect([...container.querySelectorAll('*')].some((el) => [...el.attributes].some((a) => a.name.startsWith('on')))).toBe(
      false,
    );
    expect(screen.getAllByText(XSS[0]).length, 'subject, author and body show verbatim').toBeGreaterThanOrEqual(3);
    expect(screen.getAllByText(XSS[2]).length).toBeGreaterThanOrEqual(2);
    expect((window as unknown as { __xss?: number }).__xss).toBeUndefined();
  });

  it('says "Budget not set" when the ticket has no budget', async () => {
    renderTicket(detailFixture({}, { budget_hours: null, utilization_pct: null, band: null }));
    const utilization = await screen.findByTestId('sidebar-utilization');
    expect(utilization.textContent).toContain('Budget not set');
    expect(screen.getByTestId('sidebar-budget').textContent).toContain('Not set');
  });

  it('shows utilization with the band name as text', async () => {
    renderTicket(detailFixture({}, { utilization_pct: '92.50', band: 'orange', hours_used: '9.25' }));
    const utilization = await screen.findByTestId('sidebar-utilization');
    expect(utilization.textContent).toContain('92%');
    expect(utilization.textContent).toContain('Orange');
  });

  it('validates hours inline and does not submit bad hours', async () => {
    renderTicket();
    await openTab('reply');
    await fireEvent.click(input('logtime-toggle'));
    await fireEvent.input(screen.getByTestId('entry-body'), { target: { value: 'Done' } });

    for (const bad of ['0.1', '0.3', '24.25', 'abc']) {
      await fireEvent.input(input('logtime-hours'), { target: { value: bad } });
      expect(screen.getByText(/least you can log|steps of 0.25|most you can log|must be a number/), `${bad} is flagged`).toBeTruthy();
      expect(input('logtime-hours').getAttribute('aria-invalid')).toBe('true');
    }
    await fireEvent.click(screen.getByTestId('submit-entry'));
    expect(api.submitEntry, 'bad hours never reach the core').not.toHaveBeenCalled();

    await fireEvent.input(input('logtime-hours'), { target: { value: '0.25' } });
    expect(input('logtime-hours').getAttribute('aria-invalid')).toBe('false');
    expect(screen.queryByText(/least you can log|steps of 0.25|most you can log|must be a number/)).toBeNull();
  });

  it('carries the whole Log Time panel over between Reply and Note, and submit sends it', async () => {
    renderTicket();
    await openTab('reply');
    await fireEvent.input(screen.getByTestId('entry-body'), { target: { value: 'Reply text' } });
    await fireEvent.click(input('logtime-toggle'));
    await fireEvent.input(input('logtime-hours'), { target: { value: '1.5' } });
    await fireEvent.change(screen.getByTestId('logtime-task'), { target: { value: '12' } });
    await fireEvent.input(screen.getByTestId('logtime-notes'), { target: { value: 'Fixed redirect' } });

    await openTab('note');
    expect(input('logtime-toggle').checked, 'the checkbox stays ticked').toBe(true);
    expect(input('logtime-hours').value).toBe('1.5');
    expect((screen.getByTestId('logtime-task') as HTMLSelectElement).value).toBe('12');
    expect((screen.getByTestId('logtime-notes') as HTMLTextAreaElement).value).toBe('Fixed redirect');
    expect((screen.getByTestId('entry-body') as HTMLTextAreaElement).value, 'the body is per tab').toBe('');

    await fireEvent.input(screen.getByTestId('entry-body'), { target: { value: 'Internal' } });
    vi.mocked(api.submitEntry).mockResolvedValue({ state: 'queued', harvest_id: null, message: null });
    await fireEvent.click(screen.getByTestId('submit-entry'));

    expect(api.submitEntry).toHaveBeenCalledWith(1, 'note', 'Internal', {
      hours: '1.5',
      task_id: 12,
      notes: 'Fixed redirect',
      timer_entry_id: null,
    });
    expect(await screen.findByText(/will be sent when Harvest is reachable/)).toBeTruthy();
    expect(api.timeline, 'the timeline refreshes after submitting').toHaveBeenCalledTimes(2);
    expect(api.getTicket, 'the ticket concerned is refreshed once').toHaveBeenCalledTimes(2);
  });

  it('carries a stopped timer entry over to the other tab and submits it without hours', async () => {
    renderTicket();
    await openTab('note');
    await fireEvent.click(input('logtime-toggle'));
    vi.mocked(api.timerStart).mockResolvedValue({
      running: true,
      ticket: 1,
      harvest_id: 900,
      started_at: '2024-05-03T14:02:00Z',
      elapsed_hours: 0,
    });
    await fireEvent.click(screen.getByTestId('logtime-timer-start'));
    expect(api.timerStart).toHaveBeenCalledWith(1, 11, false);
    expect((await screen.findByTestId('logtime-elapsed')).textContent).toMatch(/Running since \d\d:\d\d/);

    vi.mocked(api.timerStop).mockResolvedValue({
      running: false,
      ticket: 1,
      harvest_id: 900,
      started_at: '2024-05-03T14:02:00Z',
      elapsed_hours: 0.75,
    });
    await fireEvent.click(await screen.findByTestId('logtime-timer-stop'));
    await waitFor(() => expect(screen.getByTestId('logtime-elapsed').textContent).toContain('✓'));
    expect(screen.getByTestId('logtime-elapsed').textContent).toContain('0:45');

    await openTab('reply');
    expect(screen.getByTestId('logtime-elapsed').textContent, 'the stopped entry follows to Reply').toContain('0:45');
    await fireEvent.input(screen.getByTestId('entry-body'), { target: { value: 'All fixed' } });
    vi.mocked(api.submitEntry).mockResolvedValue({ state: 'sent', harvest_id: 900, message: null });
    await fireEvent.click(screen.getByTestId('submit-entry'));

    expect(api.submitEntry).toHaveBeenCalledWith(1, 'response', 'All fixed', {
      hours: null,
      task_id: 11,
      notes: null,
      timer_entry_id: 900,
    });
    expect(await screen.findByText(/sent to Harvest ✓/)).toBeTruthy();
  });

  it('submits without time when the panel is closed', async () => {
    renderTicket();
    await openTab('reply');
    await fireEvent.input(screen.getByTestId('entry-body'), { target: { value: 'Just words' } });
    await fireEvent.keyDown(screen.getByTestId('entry-body'), { key: 'Enter', ctrlKey: true });
    expect(api.submitEntry, 'Ctrl+Enter submits').toHaveBeenCalledWith(1, 'response', 'Just words', null);
  });

  it('asks before starting the timer near the budget and starts with confirmed: true', async () => {
    renderTicket();
    await openTab('reply');
    await fireEvent.click(input('logtime-toggle'));
    vi.mocked(api.timerStart)
      .mockRejectedValueOnce({ code: 'confirm', message: 'Ticket #1 is at 95% of its budget. Start anyway?' })
      .mockResolvedValueOnce({ running: true, ticket: 1, harvest_id: 5, started_at: '2024-05-03T14:02:00Z', elapsed_hours: 0 });
    await fireEvent.click(screen.getByTestId('logtime-timer-start'));

    const dialog = await screen.findByTestId('confirm-dialog');
    expect(dialog.textContent).toContain('95% of its budget');
    await fireEvent.click(within(dialog).getByTestId('confirm-yes'));

    expect(api.timerStart).toHaveBeenLastCalledWith(1, 11, true);
    await waitFor(() => expect(screen.queryByTestId('confirm-dialog')).toBeNull());
    expect(await screen.findByTestId('logtime-timer-stop')).toBeTruthy();
    expect(app.state?.timer.running, 'the header sees the running timer').toBe(true);
  });

  it('closes the confirm dialog with Escape without starting', async () => {
    renderTicket();
    await openTab('reply');
    await fireEvent.click(input('logtime-toggle'));
    vi.mocked(api.timerStart).mockRejectedValueOnce({ code: 'confirm', message: 'Start anyway?' });
    await fireEvent.click(screen.getByTestId('logtime-timer-start'));
    await screen.findByTestId('confirm-dialog');
    await fireEvent.keyDown(window, { key: 'Escape' });
    expect(screen.queryByTestId('confirm-dialog')).toBeNull();
    expect(api.timerStart).toHaveBeenCalledTimes(1);
  });

  it('fills the notes with ✦ and says who wrote them', async () => {
    renderTicket();
    await openTab('reply');
    await fireEvent.input(screen.getByTestId('entry-body'), { target: { value: 'Long reply about the redirect loop' } });
    await fireEvent.click(input('logtime-toggle'));
    vi.mocked(api.summarize).mockResolvedValueOnce({
      note: 'Fixed the redirect loop',
      source: 'local',
      fallback_reason: 'LLM timed out',
    });
    await fireEvent.click(screen.getByTestId('logtime-summarize'));

    expect(api.summarize).toHaveBeenCalledWith('Long reply about the redirect loop');
    await waitFor(() =>
      expect((screen.getByTestId('logtime-notes') as HTMLTextAreaElement).value).toBe('Fixed the redirect loop'),
    );
    const source = screen.getByTestId('logtime-source').textContent ?? '';
    expect(source).toContain('local summarizer');
    expect(source).toContain('LLM timed out');

    vi.mocked(api.summarize).mockResolvedValueOnce({ note: 'Short', source: 'llm' });
    await fireEvent.click(screen.getByTestId('logtime-summarize'));
    await waitFor(() => expect(screen.getByTestId('logtime-source').textContent).toContain('LLM'));
  });

  it('disables replies and notes on a locked ticket and shows the reason', async () => {
    renderTicket(detailFixture({}, { locked: true, lock_reason: 'Hours used (10.5) reached the budget (10)' }));
    expect((await screen.findByTestId('lock-reason')).textContent).toBe('Hours used (10.5) reached the budget (10)');
    expect(screen.getAllByTestId('over-budget-badge').length).toBeGreaterThan(0);

    for (const tab of ['reply', 'note'] as const) {
      await openTab(tab);
      expect((screen.getByTestId('entry-body') as HTMLTextAreaElement).closest('fieldset')?.disabled).toBe(true);
      expect((screen.getByTestId('submit-entry') as HTMLButtonElement).disabled).toBe(true);
      expect(input('logtime-toggle').disabled).toBe(true);
    }
  });

  it('hides Unlock and budget editing from agents', async () => {
    renderTicket(detailFixture({ can_manage: false }, { locked: true, lock_reason: 'Over' }));
    await screen.findByTestId('lock-reason');
    expect(screen.queryByTestId('unlock-button')).toBeNull();
    expect(screen.queryByRole('button', { name: /Edit Budget/ })).toBeNull();
    expect(screen.queryByText(/Link Harvest project|Relink/)).toBeNull();
  });

  it('lets a PM unlock with a reason and extra hours', async () => {
    renderTicket(detailFixture({ can_manage: true }, { locked: true, lock_reason: 'Over' }));
    await fireEvent.click(await screen.findByTestId('unlock-button'));
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    expect(api.unlockTicket, 'a reason is required').not.toHaveBeenCalled();

    vi.mocked(api.unlockTicket).mockResolvedValue(detailFixture().ticket);
    await fireEvent.input(screen.getByTestId('unlock-reason'), { target: { value: 'Client approved' } });
    await fireEvent.input(screen.getByTestId('unlock-extra'), { target: { value: '2.5' } });
    await fireEvent.click(screen.getByTestId('unlock-submit'));
    expect(api.unlockTicket).toHaveBeenCalledWith(1, 'Client approved', '2.5');
  });

  it('lets a PM edit the budget inline', async () => {
    renderTicket(detailFixture({ can_manage: true }));
    await fireEvent.click(await screen.findByRole('button', { name: 'Edit Budget Hours' }));
    const field = screen.getByRole('textbox', { name: 'Budget Hours' });
    await fireEvent.input(field, { target: { value: '20' } });
    vi.mocked(api.updateTicket).mockResolvedValue(detailFixture().ticket);
    await fireEvent.submit(field.closest('form') as HTMLFormElement);
    expect(api.updateTicket).toHaveBeenCalledWith({ number: 1, budget_hours: '20', quoted_hours: null, status: null });
  });

  it('shows a link_project error clearly', async () => {
    renderTicket(detailFixture({ can_manage: true }, { harvest_project_id: null, harvest_project_name: null }));
    vi.mocked(api.linkProject).mockRejectedValue({ code: 'not_found', message: 'No Harvest project with id 999' });
    const field = await screen.findByRole('textbox', { name: /Link Harvest project by id/ });
    await fireEvent.input(field, { target: { value: '999' } });
    await fireEvent.click(screen.getByRole('button', { name: 'Link' }));
    expect(api.linkProject).toHaveBeenCalledWith(1, 999);
    expect(await screen.findByText('No Harvest project with id 999', { selector: '.field-error' })).toBeTruthy();
  });

  it('opens the project in Harvest from the sidebar', async () => {
    renderTicket();
    await fireEvent.click(within(await screen.findByTestId('sidebar-project')).getByRole('button'));
    expect(api.openProject).toHaveBeenCalledWith(1);
  });

  it('offers Connect in the Log Time panel when disconnected', async () => {
    setAppState(appStateFixture({ connection: 'disconnected', me: null }));
    renderTicket();
    await openTab('reply');
    await fireEvent.click(input('logtime-toggle'));
    expect(screen.getByTestId('connect-button')).toBeTruthy();
    vi.mocked(api.startDemo).mockResolvedValue(appStateFixture({ connection: 'demo' }));
    await fireEvent.click(screen.getByTestId('demo-button'));
    await waitFor(() => expect(app.state?.connection).toBe('demo'));
    expect(await screen.findByTestId('logtime-hours')).toBeTruthy();
  });

  it('an osTicket ticket shows where it comes from, and its Reply tab sends replies to osTicket', async () => {
    const url = 'https://help.example.com/scp/tickets.php?id=1';
    renderTicket(detailFixture({}, { source: 'osticket', source_number: '489123', source_url: url }));

    const source = await screen.findByTestId('sidebar-source');
    expect(source.textContent).toContain('osTicket #489123');
    await fireEvent.click(within(source).getByRole('button'));
    expect(api.openInDesk).toHaveBeenCalledWith(1);

    await openTab('reply');
    const notice = await screen.findByTestId('reply-in-desk');
    expect(notice.textContent).toContain('written in osTicket');
    expect(screen.queryByTestId('entry-body'), 'no reply text that would never reach the client').toBeNull();
    await fireEvent.click(within(notice).getByRole('button', { name: /Open in osTicket/ }));
    expect(api.openInDesk).toHaveBeenCalledTimes(2);

    await openTab('note');
    expect(await screen.findByTestId('entry-body')).toBeTruthy();
  });

  it('a Zendesk ticket takes replies here and says they become public comments there', async () => {
    const url = 'https://acme.zendesk.com/agent/tickets/4680034739994322';
    renderTicket(detailFixture({}, { source: 'zendesk', source_number: '4680034739994322', source_url: url }));
    expect((await screen.findByTestId('sidebar-source')).textContent).toContain('Zendesk #4680034739994322');
    await openTab('reply');
    expect(screen.queryByTestId('reply-in-desk')).toBeNull();
    expect(await screen.findByTestId('entry-body')).toBeTruthy();
    expect(screen.getByTestId('zendesk-write').textContent).toContain('public comment');
    await openTab('note');
    expect((await screen.findByTestId('zendesk-write')).textContent).toContain('private comment');
  });

  it('a ticket typed in here names no desk', async () => {
    renderTicket();
    await screen.findByTestId('sidebar-project');
    expect(screen.queryByTestId('sidebar-source')).toBeNull();
  });
});
