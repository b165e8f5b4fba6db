// The one place the UI talks to the Rust core. Every Tauri command and event
// the page uses has a typed wrapper here, so components never call `invoke`
// or `listen` directly and tests replace this module with `vi.mock('./api')`.
// The types mirror docs/desktop-ipc.md (snake_case, as serde sends them).
import { invoke } from '@tauri-apps/api/core';
import { listen, type UnlistenFn } from '@tauri-apps/api/event';

export type Role = 'agent' | 'pm' | 'admin';

/** Budget utilisation band, computed by the core from hours used / budget. */
export type Band = 'green' | 'yellow' | 'orange' | 'red';

/** One ticket with its budget state; mirrors the Rust `TicketView` DTO. */
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

export interface Me {
  name: string;
  email: string;
  role: Role;
  account_id: number;
}

export interface TimerState {
  running: boolean;
  ticket: number | null;
  harvest_id: number | null;
  started_at: string | null;
  elapsed_hours: number | null;
}

export interface SyncStatus {
  last_run_at: string | null;
  last_error: string | null;
  running: boolean;
}

export type Theme = 'light' | 'dark' | 'system';

export interface Settings {
  sync_interval_minutes: number;
  approaching_pct: number;
  near_pct: number;
  lock_pct: number;
  start_at_login: boolean;
  global_shortcut: string;
  theme: Theme;
  /** The team's PostgreSQL database (no password), or '' for this computer's file. */
  team_database: string;
  /** Write-only: sent to be kept in the keychain, never returned. */
  team_password?: string | null;
}

export type Connection = 'connected' | 'demo' | 'disconnected';

/** This person's time on its way to Harvest. */
export interface OutboxSummary {
  /** Waiting to be sent: it goes out on its own when Harvest answers. */
  waiting: number;
  /** Refused by Harvest: shown with Retry and Discard. */
  refused: number;
}

export type OutboxState = 'pending' | 'sending' | 'sent' | 'failed' | 'discarded';

export interface OutboxItem {
  id: string;
  ticket: number;
  project_id: number;
  task_id: number;
  spent_date: string;
  hours: number;
  notes: string | null;
  state: OutboxState;
  attempts: number;
  /** Harvest's message for the last try that failed. */
  last_error: string | null;
  harvest_id: number | null;
  created_at: string;
  logged_by: number | null;
  attempted_at: string | null;
}

export interface AppState {
  connection: Connection;
  me: Me | null;
  timer: TimerState;
  sync: SyncStatus;
  outbox: OutboxSummary;
  /** Harvest entries the import keeps aside (`tickettime sync status` lists them). */
  quarantined: number;
  settings: Settings;
  /** Shown once, e.g. "No system tray: …" or a keychain warning. */
  notice: string | null;
}

export interface Task {
  id: number;
  name: string;
}

export interface HarvestClient {
  id: number;
  name: string;
}

export interface TicketDetail {
  ticket: TicketView;
  can_manage: boolean;
  project_url: string | null;
  tasks: Task[];
}

export type TimelineKind = 'message' | 'response' | 'note' | 'time';

export interface TimelineItem {
  kind: TimelineKind;
  at: string;
  author: string;
  body: string | null;
  hours: number | null;
  spent_date: string | null;
  harvest_id: number | null;
}

export interface TimelinePage {
  /** Chronological. */
  items: TimelineItem[];
  total: number;
  /** Index of items[0] in the whole timeline. */
  start: number;
}

/** Hours travel as text so the core parses them exactly (quarter steps). */
export interface TimeInput {
  hours: string | null;
  task_id: number | null;
  notes: string | null;
  timer_entry_id: number | null;
}

export interface Delivery {
  state: 'sent' | 'queued' | 'failed' | 'none';
  harvest_id: number | null;
  message: string | null;
}

export interface Note {
  note: string;
  source: 'local' | 'llm';
  fallback_reason?: string;
}

export type EntryKind = 'response' | 'note';

export interface NewTicket {
  subject: string;
  client: string | null;
  agent: string | null;
  pm: string | null;
  budget_hours: string | null;
  quoted_hours: string | null;
  project_id: number | null;
}

export interface TicketUpdate {
  number: number;
  budget_hours: string | null;
  quoted_hours: string | null;
  status: string | null;
}

export type UnlockRequestState = 'pending' | 'approved' | 'denied';

/** An agent's request to unlock a locked ticket, and the PM's answer. */
export interface UnlockRequest {
  id: number;
  ticket: number;
  /** The requester's name (compare with `Me.name`). */
  requested_by: string;
  reason: string;
  /** Extra hours asked for. */
  hours: number | null;
  state: UnlockRequestState;
  answered_by: string | null;
  answer_note: string | null;
  extra_granted: number | null;
  created_at: string;
}

export interface UnlockRequestInput {
  number: number;
  reason: string;
  /** Extra hours asked for, as text ("2.5"); null for none. */
  hours: string | null;
}

export interface UnlockRequestsQuery {
  /** null: all pending requests the user may answer. */
  number: number | null;
}

export interface UnlockAnswer {
  id: number;
  approve: boolean;
  /** Extra hours granted when approving, as text; null for none. */
  extra_hours: string | null;
  note: string | null;
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

async function call<T>(command: string, input?: unknown): Promise<T> {
  try {
    return input === undefined ? await invoke<T>(command) : await invoke<T>(command, { input });
  } catch (error) {
    throw toCommandError(error);
  }
}

export const appState = () => call<AppState>('app_state');
/** All tickets with their budget state, as the core computes it. */
export const listTickets = () => call<TicketView[]>('list_tickets');
export const getTicket = (number: number) => call<TicketDetail>('get_ticket', { number });
/** The newest `limit` items before index `before` (the newest of all when null). */
export const timeline = (number: number, limit: number, before: number | null) =>
  call<TimelinePage>('timeline', { number, limit, before });
export const createTicket = (input: NewTicket) => call<TicketView>('create_ticket', input);
export const updateTicket = (input: TicketUpdate) => call<TicketView>('update_ticket', input);
export const linkProject = (number: number, project_id: number) =>
  call<TicketView>('link_project', { number, project_id });
export const harvestClients = () => call<HarvestClient[]>('harvest_clients');
export const createHarvestProject = (number: number, client_id: number) =>
  call<TicketView>('create_harvest_project', { number, client_id });
export const recordMessage = (number: number, from: string, body: string) =>
  call<null>('record_message', { number, from, body });
export const submitEntry = (number: number, kind: EntryKind, body: string, time: TimeInput | null) =>
  call<Delivery>('submit_entry', { number, kind, body, time });
export const timerStart = (number: number, task_id: number | null, confirmed: boolean) =>
  call<TimerState>('timer_start', { number, task_id, confirmed });
export const timerStop = (notes: string | null) => call<TimerState>('timer_stop', { notes });
export const summarize = (text: string) => call<Note>('summarize', { text });
export const unlockTicket = (number: number, reason: string, extra_hours: string | null) =>
  call<TicketView>('unlock_ticket', { number, reason, extra_hours });
/** Asks a PM to unlock a locked ticket; an own pending request is returned instead of a second one. */
export const requestUnlock = (input: UnlockRequestInput) => call<UnlockRequest>('request_unlock', input);
/** Requests on one ticket, or all pending ones the user may answer (`number: null`); newest first. */
export const unlockRequests = (input: UnlockRequestsQuery) => call<UnlockRequest[]>('unlock_requests', input);
/** PM/admin only; approving unlocks the ticket with the extra hours. */
export const answerUnlockRequest = (input: UnlockAnswer) => call<UnlockRequest>('answer_unlock_request', input);
export const syncNow = () => call<SyncStatus>('sync_now');
/** This person's time waiting for Harvest or refused by it, oldest first. */
export const outboxItems = () => call<OutboxItem[]>('outbox_items');
/** Puts a refused item back in line; it is sent at once. */
export const outboxRetry = (id: string) => call<null>('outbox_retry', { id });
/** Gives an item up: it is never sent. */
export const outboxDiscard = (id: string) => call<null>('outbox_discard', { id });
/** Signs in in the system browser; `oauthApp` (entered once) is kept in the keychain. */
export const connectOauth = (oauthApp?: { client_id: string; client_secret: string }) =>
  call<null>('connect_oauth', oauthApp);
export const connectToken = (token: string, account_id: number) =>
  call<AppState>('connect_token', { token, account_id });
export const startDemo = () => call<AppState>('start_demo');
export const disconnect = () => call<AppState>('disconnect');
export const saveSettings = (settings: Settings) => call<Settings>('save_settings', settings);
export const openProject = (number: number) => call<null>('open_project', { number });

/** Subscribes to a Rust event; resolves to the function that unsubscribes. */
function on<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => handler(e.payload));
}

export const onAppState = (handler: (state: AppState) => void) => on('app-state', handler);
export const onTicketsChanged = (handler: (numbers: number[]) => void) => on('tickets-changed', handler);
export const onOpenTicket = (handler: (number: number) => void) => on('open-ticket', handler);
export const onShowPicker = (handler: () => void) => on<null>('show-picker', () => handler());
