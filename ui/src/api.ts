// The one place the UI talks to the Rust core. Every Tauri command the page
// uses has a typed wrapper here, so components never call `invoke` directly
// and tests replace this module with `vi.mock('./api')`.
import { invoke } from '@tauri-apps/api/core';

/** Budget utilisation band, computed by the core from hours used / budget. */
export type Band = 'green' | 'yellow' | 'orange' | 'red';

/** One row of `list_tickets`; mirrors the Rust `TicketView` DTO (snake_case). */
export interface TicketView {
  number: number;
  subject: string;
  status: string;
  client: string | null;
  agent: string | null;
  pm: string | null;
  harvest_project_id: number | null;
  harvest_project_name: string | null;
  budget_hours: number | null;
  quoted_hours: number | null;
  hours_used: number;
  extra_hours: number;
  utilization_pct: number | null;
  band: Band | null;
  locked: boolean;
  lock_reason: string | null;
}

/** How every command error crosses IPC: a small machine code and a sentence for people. */
export interface CommandError {
  code: string;
  message: string;
}

function isCommandError(value: unknown): value is CommandError {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as CommandError).code === 'string' &&
    typeof (value as CommandError).message === 'string'
  );
}

/**
 * Normalises whatever a rejected command produced into a `CommandError`.
 * Commands reject with `{ code, message }`; Tauri itself rejects with a bare
 * string (e.g. an unknown command or a denied permission).
 */
export function toCommandError(error: unknown): CommandError {
  if (isCommandError(error)) return error;
  if (typeof error === 'string') return { code: 'ipc', message: error };
  if (error instanceof Error) return { code: 'ipc', message: error.message };
  return { code: 'unknown', message: 'Something went wrong talking to Tickettime.' };
}

/** All tickets with their budget state, as the core computes it. */
export async function listTickets(): Promise<TicketView[]> {
  try {
    return await invoke<TicketView[]>('list_tickets');
  } catch (error) {
    throw toCommandError(error);
  }
}
