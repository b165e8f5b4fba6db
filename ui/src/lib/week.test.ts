import { describe, expect, it } from 'vitest';
import { timesheetFixture } from '../fixtures';
import { barHeights, isEmptyWeek, weekStep } from './week';

const line = { ticket: 12, subject: 'Fix login', hours: '1.00', notes: [] };

function key(key: string, target: EventTarget | null = document.body, mods: Partial<KeyboardEvent> = {}) {
  return { key, target, altKey: false, ctrlKey: false, metaKey: false, shiftKey: false, ...mods };
}

describe('timesheet', () => {
  it('scales each bar to the largest day', () => {
    const sheet = timesheetFixture({}, { 0: { total: '2.00' }, 2: { total: '0.50' }, 4: { total: '4.00' } });
    expect(barHeights(sheet.days)).toEqual([50, 0, 12.5, 0, 100, 0, 0]);
    expect(barHeights(timesheetFixture().days), 'an empty week has no bars and no division by zero').toEqual([0, 0, 0, 0, 0, 0, 0]);
  });

  it('calls a week without lines empty', () => {
    expect(isEmptyWeek(timesheetFixture())).toBe(true);
    expect(isEmptyWeek(timesheetFixture({}, { 3: { total: '1.00', lines: [line] } }))).toBe(false);
  });

  it('pages with PageUp/PageDown, and with the arrows outside text fields', () => {
    const text = document.createElement('input');
    const box = document.createElement('input');
    box.type = 'checkbox';
    const area = document.createElement('textarea');
    expect(weekStep(key('PageUp'))).toBe(-1);
    expect(weekStep(key('PageDown', text))).toBe(1);
    expect(weekStep(key('PageDown', area)), 'a text area scrolls').toBe(0);
    expect(weekStep(key('ArrowLeft'))).toBe(-1);
    expect(weekStep(key('ArrowRight', box))).toBe(1);
    expect(weekStep(key('ArrowRight', text)), 'the caret moves in a text field').toBe(0);
    expect(weekStep(key('ArrowLeft', document.body, { altKey: true })), 'Alt+← is the webview\'s').toBe(0);
    expect(weekStep(key('Enter'))).toBe(0);
  });
});
