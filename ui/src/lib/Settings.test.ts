import { fireEvent, render, screen, waitFor, within } from '@testing-library/svelte';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import * as api from '../api';
import { appStateFixture } from '../fixtures';
import { installApiDefaults } from '../test-api';
import { setAppState } from './app.svelte';
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
