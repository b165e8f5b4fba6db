import { describe, expect, it } from 'vitest';
import type { Settings } from '../api';
import { checkSettings, defaultSettings } from './settingsForm';

function withReminders(change: Partial<Settings['reminders']>, top: Partial<Settings> = {}): Settings {
  const s = defaultSettings();
  return { ...s, ...top, reminders: { ...s.reminders, ...change } };
}

describe('settings checks', () => {
  it('accepts the defaults', () => {
    expect(checkSettings(defaultSettings())).toBeNull();
  });

  it('takes 0 as "never ask about idle time" and refuses more than 240 or an empty field', () => {
    expect(checkSettings({ ...defaultSettings(), idle_minutes: 0 })).toBeNull();
    expect(checkSettings({ ...defaultSettings(), idle_minutes: 241 })).toMatch(/240/);
    expect(checkSettings({ ...defaultSettings(), idle_minutes: null as unknown as number })).toMatch(/240/);
  });

  it('wants working hours as HH:MM, start before end', () => {
    expect(checkSettings(withReminders({ start: '17:00', end: '09:00' }))).toMatch(/start before they end/);
    expect(checkSettings(withReminders({ start: '9:00' }))).toMatch(/like 09:00/);
  });

  it('keeps the reminder delays in the ranges the core accepts', () => {
    expect(checkSettings(withReminders({ no_timer_minutes: 0 }))).toMatch(/start a timer/);
    expect(checkSettings(withReminders({ long_timer_hours: 25 }))).toMatch(/still working/);
    expect(checkSettings(withReminders({ snooze_minutes: 1.5 }))).toMatch(/Snooze/);
  });
});
