// State of the "Log Time to Harvest" panel, shared by the Reply and Note
// tabs: switching tabs must carry the checkbox, hours, timer, task and notes
// over, so the panel reads and writes this one store rather than its own
// component state. It belongs to one ticket and resets when another opens.
import type { Note, Task, TimeInput, TimerState } from '../api';
import { checkHours, type HoursCheck } from './hours';

export class LogTimeStore {
  ticket = $state<number | null>(null);
  open = $state(false);
  hours = $state('');
  taskId = $state<number | null>(null);
  notes = $state('');
  /** Who wrote the notes last via ✦, for the `logtime-source` line. */
  source = $state<Note | null>(null);
  /** The stopped timer entry that this submission is about. */
  timerEntryId = $state<number | null>(null);
  /** Hours of the stopped timer entry, shown with ✓. */
  stoppedHours = $state<number | null>(null);
  /** Set once the user tried to submit, so the hours message shows. */
  touched = $state(false);

  /** Starts fresh for a ticket; keeps everything when it is the same one. */
  forTicket(number: number, tasks: Task[]): void {
    if (this.ticket !== number) {
      this.reset();
      this.ticket = number;
    }
    if (this.taskId === null || !tasks.some((t) => t.id === this.taskId)) {
      this.taskId = tasks[0]?.id ?? null;
    }
  }

  reset(): void {
    this.ticket = null;
    this.open = false;
    this.hours = '';
    this.taskId = null;
    this.notes = '';
    this.source = null;
    this.timerEntryId = null;
    this.stoppedHours = null;
    this.touched = false;
  }

  /** After a successful submission: the panel closes, the task stays. */
  clearAfterSubmit(): void {
    this.open = false;
    this.hours = '';
    this.notes = '';
    this.source = null;
    this.timerEntryId = null;
    this.stoppedHours = null;
    this.touched = false;
  }

  stopped(state: TimerState): void {
    this.timerEntryId = state.harvest_id;
    this.stoppedHours = state.elapsed_hours;
    this.hours = '';
  }

  /** Hours only matter when no timer entry was stopped. */
  get hoursCheck(): HoursCheck | null {
    if (!this.open || this.timerEntryId !== null) return null;
    return checkHours(this.hours);
  }

  /** `time` for `submit_entry`: null when the panel is closed. */
  timeInput(): TimeInput | null {
    if (!this.open) return null;
    const usedTimer = this.timerEntryId !== null;
    const check = this.hoursCheck;
    return {
      hours: usedTimer || !check?.ok ? null : check.value,
      task_id: this.taskId,
      notes: this.notes.trim() === '' ? null : this.notes,
      timer_entry_id: this.timerEntryId,
    };
  }
}

export const logtime = new LogTimeStore();
