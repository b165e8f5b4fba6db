// The one place the UI talks to the Rust core. Commands and their types are
// generated from the Rust signatures into ./bindings.ts (`scripts/bindings`;
// CI fails when it is stale); this module gives them the UI's names, turns
// every rejection into a `CommandError` and wraps the events. Components
// never call `invoke` or `listen` directly, and tests replace this module
// with `vi.mock('./api')`.
import { listen, type UnlistenFn } from '@tauri-apps/api/event';
import * as ipc from './bindings';

export { commands } from './bindings';
export type { Band, Code, ItemKind as TimelineKind, Mode as Connection, OutboxState, OutboxSummary, RequestState as UnlockRequestState, Role, Theme } from './bindings';
export type { EntryKind, DeliveryState, Hours, Utilization } from './bindings';

/** One ticket with its budget state, as the core computes it. */
export type TicketView = ipc.TicketView;
export type Me = ipc.Me;
export type TimerState = ipc.TimerStatus;
export type SyncStatus = ipc.SyncStatus;
/** What the Settings screen edits; `team_password` is write-only (kept in the keychain). */
export type Settings = ipc.Settings;
/** What Save sends: the settings and, when typed, the team database's password (kept in the keychain). */
export type SettingsInput = ipc.SettingsInput;
export type OutboxItem = ipc.OutboxItem;
/** A Harvest entry the import keeps aside, with the reason. */
export type Quarantined = ipc.Quarantined;
export type AppState = ipc.AppState;
export type Task = ipc.Task;
export type HarvestClient = ipc.HarvestClient;
export type TicketDetail = ipc.TicketDetail;
export type TimelineItem = ipc.TimelineItem;
export type TimelinePage = ipc.TimelinePage;
/** Hours travel as text so the core parses them exactly (quarter steps). */
export type TimeInput = ipc.TimeInput;
export type Delivery = ipc.DeliveryDto;
export type Note = ipc.Note;
export type NewTicket = ipc.CreateTicketInput;
export type TicketUpdate = ipc.UpdateTicketInput;
/** An agent's request to unlock a locked ticket, and the PM's answer. */
export type UnlockRequest = ipc.UnlockRequest;
export type UnlockRequestInput = ipc.RequestUnlockInput;
export type UnlockRequestsQuery = ipc.RequestsInput;
export type UnlockAnswer = ipc.AnswerInput;
/** Someone's Harvest timer running on a ticket, as the last import saw it. */
export type RunningTimer = ipc.RunningTimer;
/** An away the person came back from while their timer ran, not answered yet. */
export type PendingAway = ipc.PendingAway;
export type IdleChoice = ipc.IdleChoice;
export type ReminderSettings = ipc.ReminderSettings;
/** A person's week: day totals and, per day, the hours on each ticket. */
export type Timesheet = ipc.Timesheet;
export type TimesheetDay = ipc.TimesheetDay;
export type TimesheetLine = ipc.TimesheetLine;
/** A reply or note written on a day its writer logged no time on its ticket. */
export type Gap = ipc.Gap;
/** A file saved for the person (in their Downloads). */
export type SavedFile = ipc.SavedFile;

/**
 * How every command error reaches a component: the core's code (a union the
 * UI switches on) and a sentence for people. Tauri itself rejects with a bare
 * string (an unknown command, a denied permission): that becomes `ipc`.
 */
export interface CommandError {
  code: ipc.Code | 'ipc' | 'unknown';
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

/** Normalises whatever a rejected command produced into a `CommandError`. */
export function toCommandError(error: unknown): CommandError {
  if (isCommandError(error)) return error;
  if (typeof error === 'string') return { code: 'ipc', message: error };
  if (error instanceof Error) return { code: 'ipc', message: error.message };
  return { code: 'unknown', message: 'Something went wrong talking to Tickettime.' };
}

async function call<T>(command: Promise<T>): Promise<T> {
  try {
    return await command;
  } catch (error) {
    throw toCommandError(error);
  }
}

const c = ipc.commands;
export const appState = () => call(c.appState());
/** All tickets with their budget state, as the core computes it. */
export const listTickets = () => call(c.listTickets());
export const getTicket = (number: number) => call(c.getTicket({ number }));
/** The newest `limit` items before index `before` (the newest of all when null). */
export const timeline = (number: number, limit: number, before: number | null) =>
  call(c.timeline({ number, limit, before }));
export const createTicket = (input: NewTicket) => call(c.createTicket(input));
export const updateTicket = (input: TicketUpdate) => call(c.updateTicket(input));
export const linkProject = (number: number, project_id: number) => call(c.linkProject({ number, project_id }));
export const harvestClients = () => call(c.harvestClients());
export const createHarvestProject = (number: number, client_id: number) =>
  call(c.createHarvestProject({ number, client_id }));
export const recordMessage = (number: number, from: string, body: string) =>
  call(c.recordMessage({ number, from, body }));
export const submitEntry = (number: number, kind: ipc.EntryKind, body: string, time: TimeInput | null) =>
  call(c.submitEntry({ number, kind, body, time }));
export const timerStart = (number: number, task_id: number | null, confirmed: boolean) =>
  call(c.timerStart({ number, task_id, confirmed }));
export const timerStop = (notes: string | null) => call(c.timerStop({ notes }));
export const summarize = (text: string) => call(c.summarize({ text }));
export const unlockTicket = (number: number, reason: string, extra_hours: string | null) =>
  call(c.unlockTicket({ number, reason, extra_hours }));
/** Asks a PM to unlock a locked ticket; an own pending request is returned instead of a second one. */
export const requestUnlock = (input: UnlockRequestInput) => call(c.requestUnlock(input));
/** Requests on one ticket, or all pending ones the user may answer (`number: null`); newest first. */
export const unlockRequests = (input: UnlockRequestsQuery) => call(c.unlockRequests(input));
/** PM/admin only; approving unlocks the ticket with the extra hours. */
export const answerUnlockRequest = (input: UnlockAnswer) => call(c.answerUnlockRequest(input));
export const syncNow = () => call(c.syncNow());
/** This person's time waiting for Harvest or refused by it, oldest first. */
export const outboxItems = () => call(c.outboxItems());
/** Puts a refused item back in line; it is sent at once. */
export const outboxRetry = (id: string) => call(c.outboxRetry({ id }));
/** Gives an item up: it is never sent. */
export const outboxDiscard = (id: string) => call(c.outboxDiscard({ id }));
/** Harvest entries the import keeps aside; fixed in Harvest, they import on the next sync. */
export const quarantine = () => call(c.quarantine());
/** Signs in in the system browser; `oauthApp` (entered once) is kept in the keychain. */
export const connectOauth = (oauthApp?: { client_id: string; client_secret: string }) =>
  call(c.connectOauth(oauthApp ?? null));
export const connectToken = (token: string, account_id: number) => call(c.connectToken({ token, account_id }));
export const startDemo = () => call(c.startDemo());
export const disconnect = () => call(c.disconnect());
export const saveSettings = (settings: SettingsInput) => call(c.saveSettings(settings));
export const openProject = (number: number) => call(c.openProject({ number }));
/** Opens a ticket from a help desk in that desk (its stored link, in the system browser). */
export const openInDesk = (number: number) => call(c.openInDesk({ number }));
/** A help desk whose tickets come in (no secret: that is in the keychain). */
export type Desk = ipc.DeskRecord;
/** A desk to add, as Settings → Help desks sends it. */
export type DeskInput = ipc.DeskInput;
export const desks = () => call(c.desks());
/** PM/admin only: signs in to the desk first; its secret goes to the keychain. */
export const addDesk = (input: DeskInput) => call(c.addDesk(input));
export const removeDesk = (id: number) => call(c.removeDesk({ id }));
/** Answers the away waiting in the app state; the app-state event then drops it. */
export const answerAway = (choice: IdleChoice) => call(c.answerAway({ choice }));
/** A week (`2026-W48`; this week when null) of a person (an email; yours when null, a PM's to read). */
export const timesheet = (week: string | null, user: string | null) => call(c.timesheet({ week, user }));
/** Own replies and notes of the last `days` days written on a day without time on their ticket. */
export const gaps = (days: number | null, user: string | null = null) => call(c.gaps({ days, user }));
/** Logs 0.25 h on the ticket and day of a gap. */
export const logGap = (number: number, date: string) => call(c.logGap({ number, date }));
/** Saves a ticket's time entries as CSV in Downloads. */
export const exportTicket = (number: number) => call(c.exportTicket({ number }));
/** Saves the budgets overview as CSV in Downloads. */
export const exportBudgets = () => call(c.exportBudgets());

/** Subscribes to a Rust event; resolves to the function that unsubscribes. */
function on<T>(event: string, handler: (payload: T) => void): Promise<UnlistenFn> {
  return listen<T>(event, (e) => handler(e.payload));
}

export const onAppState = (handler: (state: AppState) => void) => on('app-state', handler);
export const onTicketsChanged = (handler: (numbers: number[]) => void) => on('tickets-changed', handler);
export const onOpenTicket = (handler: (number: number) => void) => on('open-ticket', handler);
export const onShowPicker = (handler: () => void) => on<null>('show-picker', () => handler());
