import { invoke } from '@tauri-apps/api/core';
import { beforeEach, describe, expect, it, vi } from 'vitest';
import { listTickets, toCommandError } from './api';
import { ticket } from './fixtures';

vi.mock('@tauri-apps/api/core', () => ({ invoke: vi.fn() }));

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
});
