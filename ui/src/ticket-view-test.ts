// What the TicketView tests share: a clean slate and a rendered ticket. The
// test file mocks '../api' (vi.mock), so `api` here is the mock too.
import { render, screen } from '@testing-library/svelte';
import { vi } from 'vitest';
import * as api from './api';
import type { TicketDetail } from './api';
import { appStateFixture } from './fixtures';
import { installApiDefaults } from './test-api';
import { setAppState } from './lib/app.svelte';
import { clearError } from './lib/errors.svelte';
import { logtime } from './lib/logtime.svelte';
import TicketView from './lib/TicketView.svelte';

/** Default answers, no error, an empty Log Time panel, and no XSS marker. */
export function freshTicketView(): void {
  installApiDefaults(api);
  clearError();
  logtime.reset();
  setAppState(appStateFixture());
  delete (window as unknown as { __xss?: number }).__xss;
}

export function showTicket(detail: TicketDetail, refresh = 0) {
  vi.mocked(api.getTicket).mockResolvedValue(detail);
  return render(TicketView, { number: detail.ticket.number, refresh, onback: vi.fn() });
}

export function input(testid: string): HTMLInputElement {
  return screen.getByTestId(testid) as HTMLInputElement;
}
