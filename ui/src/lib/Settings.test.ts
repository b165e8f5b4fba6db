import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { appStateFixture } from '../fixtures';
import { installApiDefaults } from '../test-api';
import { app, setAppState } from './app.svelte';
import Settings from './Settings.svelte';

vi.mock('../api', async (importOriginal) => (await import('../test-api')).mockApi(await importOriginal()));

const zendesk: api.Desk = {
  id: 1,
  kind: 'zendesk',
  name: 'Zendesk acme.zendesk.com',
  url: 'https://acme.zendesk.com',
  writes_notes: true,
  tickets: 12,
  last_sync_at: null,
  last_error: null,
};

const me = (role: api.Role) => ({ name: 'Pia Park', email: 'pia@demo.test', role, account_id: 1 });

describe('Settings → Help desks', () => {
  beforeEach(() => installApiDefaults(api));

  it('a PM adds a Zendesk desk by subdomain and removes it; the token never shows', async () => {
    setAppState(appStateFixture({ me: me('pm') }));
    vi.mocked(api.desks).mockResolvedValueOnce([]).mockResolvedValueOnce([zendesk]).mockResolvedValueOnce([]);
    vi.mocked(api.addDesk).mockResolvedValue(zendesk);
    vi.mocked(api.removeDesk).mockResolvedValue(zendesk);
    render(Settings, { onclose: () => {} });
    await screen.findByTestId('help-desks');

    await fireEvent.click(screen.getByTestId('desk-add'));
    expect(screen.getByTestId('desk-problem').textContent).toContain('subdomain');
    expect(api.addDesk).not.toHaveBeenCalled();

    await fireEvent.input(screen.getByTestId('desk-address'), { target: { value: 'acme' } });
    await fireEvent.input(screen.getByTestId('desk-email'), { target: { value: 'pia@acme.example' } });
    await fireEvent.input(screen.getByTestId('desk-secret'), { target: { value: 's3cret-token' } });
    await fireEvent.input(screen.getByTestId('desk-field-budget'), { target: { value: ' Hours sold ' } });
    await fireEvent.input(screen.getByTestId('desk-field-quoted'), { target: { value: '' } });
    await fireEvent.click(screen.getByTestId('desk-add'));
    await waitFor(() =>
      expect(api.addDesk).toHaveBeenCalledWith({
        kind: 'zendesk',
        subdomain: 'acme',
        url: null,
        email: 'pia@acme.example',
        secret: 's3cret-token',
        oauth: false,
        // A blank name is the core's default.
        fields: { project: 'Harvest Project ID', budget: 'Hours sold', quoted: null },
      }),
    );
    const row = await screen.findByTestId('desk-row');
    expect(row.textContent).toContain('Zendesk · https://acme.zendesk.com · 12 tickets');
    expect(document.body.textContent).not.toContain('s3cret-token');
    expect((screen.getByTestId('desk-secret') as HTMLInputElement).value).toBe('');

    expect((screen.getByTestId('desk-field-budget') as HTMLInputElement).value).toBe('Budget Hours');

    // Removing asks first: cancelled, nothing happens.
    await fireEvent.click(screen.getByTestId('desk-remove'));
    const confirm = await screen.findByTestId('confirm-dialog');
    expect(confirm.textContent).toContain('Its 12 tickets stay here');
    await fireEvent.click(within(confirm).getByRole('button', { name: 'Cancel' }));
    expect(api.removeDesk).not.toHaveBeenCalled();
    await fireEvent.click(screen.getByTestId('desk-remove'));
    await fireEvent.click(await screen.findByTestId('confirm-yes'));
    await waitFor(() => expect(api.removeDesk).toHaveBeenCalledWith(1));
    await waitFor(() => expect(screen.queryByTestId('desk-row')).toBeNull());
  });

  it('a refused login is shown where it was typed', async () => {
    setAppState(appStateFixture({ me: me('admin') }));
    vi.mocked(api.addDesk).mockRejectedValue({ code: 'invalid', message: 'Zendesk at https://acme.zendesk.com refused the login: wrong email or API token for a@b.c' });
    render(Settings, { onclose: () => {} });
    await fireEvent.change(await screen.findByTestId('desk-kind'), { target: { value: 'osticket' } });
    await fireEvent.input(screen.getByTestId('desk-address'), { target: { value: 'mysql://tt@db/osticket' } });
    await fireEvent.click(screen.getByTestId('desk-add'));
    await waitFor(() => expect(screen.getByTestId('desk-problem').textContent).toContain('refused the login'));
    expect(vi.mocked(api.addDesk).mock.calls[0][0]).toMatchObject({
      kind: 'osticket',
      url: 'mysql://tt@db/osticket',
      prefix: 'ost_',
    });
  });

  it('an agent sees no help desks to manage', async () => {
    setAppState(appStateFixture({ me: me('agent') }));
    render(Settings, { onclose: () => {} });
    await screen.findByTestId('settings-save');
    expect(screen.queryByTestId('help-desks')).toBeNull();
    expect(api.desks).not.toHaveBeenCalled();
  });
});

describe('Settings → Reminders & idle time', () => {
  beforeEach(() => installApiDefaults(api));

  it('edits the idle time and reminders and sends them back with the rest', async () => {
    setAppState(appStateFixture({ me: me('agent') }));
    vi.mocked(api.saveSettings).mockImplementation(async ({ team_password: _, ...s }) => s);
    const onclose = vi.fn();
    render(Settings, { onclose });
    const field = (label: string) => screen.getByLabelText(label) as HTMLInputElement;

    expect(field('Ask about idle time after N minutes (0: never)').value).toBe('10');
    expect(field('Reminders').checked).toBe(true);
    expect(field('Sat').checked).toBe(false);
    expect(field('Working hours start').value).toBe('09:00');

    await fireEvent.input(field('Ask about idle time after N minutes (0: never)'), { target: { value: '0' } });
    await fireEvent.click(field('Reminders'));
    await fireEvent.click(field('Fri'));
    await fireEvent.click(field('Sat'));
    await fireEvent.input(field('Working hours start'), { target: { value: '08:30' } });
    await fireEvent.input(field('End'), { target: { value: '16:45' } });
    await fireEvent.input(field('Remind to start a timer after N minutes without one'), { target: { value: '45' } });
    await fireEvent.input(field('Ask if still working after N hours'), { target: { value: '6' } });
    await fireEvent.input(field('Snooze for N minutes'), { target: { value: '15' } });
    await fireEvent.click(screen.getByTestId('settings-save'));

    await waitFor(() => expect(onclose).toHaveBeenCalled());
    const sent = vi.mocked(api.saveSettings).mock.calls[0][0];
    expect(sent).toMatchObject({ theme: 'system', sync_interval_minutes: 5, team_password: null });
    expect(sent.idle_minutes).toBe(0);
    expect(sent.reminders).toEqual({
      enabled: false,
      days: [true, true, true, true, false, true, false],
      start: '08:30',
      end: '16:45',
      no_timer_minutes: 45,
      long_timer_hours: 6,
      snooze_minutes: 15,
    });
  });

  it('leaves the app settings alone when cancelled', async () => {
    const state = appStateFixture({ me: me('agent') });
    setAppState(state);
    render(Settings, { onclose: () => {} });
    await fireEvent.click(screen.getByLabelText('Sun'));
    await fireEvent.input(screen.getByLabelText('Snooze for N minutes'), { target: { value: '99' } });
    expect(app.state?.settings.reminders.days[6], 'the draft is a copy').toBe(false);
    expect(app.state?.settings.reminders.snooze_minutes).toBe(30);
  });

  it("shows the core's refusal where the other settings errors show", async () => {
    setAppState(appStateFixture({ me: me('agent') }));
    vi.mocked(api.saveSettings).mockRejectedValue({ code: 'invalid', message: 'snooze must last 1 to 480 minutes' });
    const onclose = vi.fn();
    render(Settings, { onclose });
    await fireEvent.click(screen.getByTestId('settings-save'));
    await waitFor(() => expect(screen.getByText('snooze must last 1 to 480 minutes').className).toContain('field-error'));
    expect(onclose).not.toHaveBeenCalled();
  });

  it('checks the working hours before sending', async () => {
    setAppState(appStateFixture({ me: me('agent') }));
    render(Settings, { onclose: () => {} });
    await fireEvent.input(screen.getByLabelText('Working hours start'), { target: { value: '18:00' } });
    await fireEvent.click(screen.getByTestId('settings-save'));
    expect(screen.getByText('Working hours must start before they end.')).toBeTruthy();
    expect(api.saveSettings).not.toHaveBeenCalled();
  });
});
