import { beforeEach, describe, expect, it } from 'vitest';
import { LogTimeStore } from './logtime.svelte';

describe('LogTimeStore', () => {
  let store: LogTimeStore;
  const tasks = [
    { id: 11, name: 'Support' },
    { id: 12, name: 'Development' },
  ];

  beforeEach(() => {
    store = new LogTimeStore();
    store.forTicket(1, tasks);
  });

  it('selects the first task by default', () => {
    expect(store.taskId).toBe(11);
  });

  it('sends no time while the panel is closed', () => {
    store.hours = '1';
    expect(store.timeInput()).toBeNull();
  });

  it('sends typed hours, or only the timer entry once a timer was stopped', () => {
    store.open = true;
    store.hours = '1,25';
    expect(store.timeInput()).toEqual({ hours: '1.25', task_id: 11, notes: null, timer_entry_id: null });
    store.stopped({ running: false, ticket: 1, harvest_id: 900, started_at: null, elapsed_hours: 0.5 });
    expect(store.timeInput()).toEqual({ hours: null, task_id: 11, notes: null, timer_entry_id: 900 });
  });

  it('keeps its state for the same ticket and starts fresh for another', () => {
    store.open = true;
    store.notes = 'n';
    store.forTicket(1, tasks);
    expect(store.notes).toBe('n');
    store.forTicket(2, [{ id: 99, name: 'Other' }]);
    expect(store.open).toBe(false);
    expect(store.notes).toBe('');
    expect(store.taskId).toBe(99);
  });
});
