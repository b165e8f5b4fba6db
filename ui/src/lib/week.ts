// The timesheet's pure parts: bar heights, the empty week, and which keys
// page between weeks.
import type { Timesheet, TimesheetDay } from '../api';
import { hundredthsOf } from './hours';

/** Each day's total as a share (0–100) of the week's largest day; all 0 for an empty week. */
export function barHeights(days: TimesheetDay[]): number[] {
  const totals = days.map((d) => Math.max(0, hundredthsOf(d.total)));
  const most = Math.max(0, ...totals);
  return totals.map((t) => (most === 0 ? 0 : (t * 100) / most));
}

export function isEmptyWeek(sheet: Timesheet): boolean {
  return sheet.days.every((d) => d.lines.length === 0);
}

/** Where typing happens: arrows move the caret (or the choice) there, not the week. */
export function isTextField(target: EventTarget | null): boolean {
  if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return true;
  if (target instanceof HTMLInputElement) return !['checkbox', 'radio', 'button', 'submit', 'reset'].includes(target.type);
  return target instanceof HTMLElement && target.isContentEditable;
}

/**
 * The week a key asks for: -1 the one before, 1 the one after, 0 none.
 * PageUp/PageDown page anywhere but in a list or a text area; the arrows
 * only outside text fields.
 */
export function weekStep(event: Pick<KeyboardEvent, 'key' | 'target' | 'altKey' | 'ctrlKey' | 'metaKey' | 'shiftKey'>): -1 | 0 | 1 {
  if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return 0;
  const target = event.target;
  switch (event.key) {
    case 'PageUp':
    case 'PageDown':
      if (target instanceof HTMLTextAreaElement || target instanceof HTMLSelectElement) return 0;
      return event.key === 'PageUp' ? -1 : 1;
    case 'ArrowLeft':
    case 'ArrowRight':
      if (isTextField(target)) return 0;
      return event.key === 'ArrowLeft' ? -1 : 1;
    default:
      return 0;
  }
}
