import { describe, expect, it } from 'vitest';
import { checkExtraHours, checkHours, checkOptionalHours, hundredthsOf } from './hours';

describe('checkHours', () => {
  it('accepts quarter steps from 0.25 to 24 and normalises the text', () => {
    expect(checkHours('0.25')).toEqual({ ok: true, value: '0.25' });
    expect(checkHours('1.50')).toEqual({ ok: true, value: '1.5' });
    expect(checkHours(' 2,75 '), 'a comma is a decimal separator too').toEqual({ ok: true, value: '2.75' });
    expect(checkHours('24')).toEqual({ ok: true, value: '24' });
    expect(checkHours('.5')).toEqual({ ok: true, value: '0.5' });
  });

  it.each([
    ['0.1', /least you can log is 0.25/],
    ['0.3', /steps of 0.25/],
    ['1.255', /steps of 0.25/],
    ['24.25', /most you can log is 24/],
    ['abc', /must be a number/],
    ['-1', /must be a number/],
    ['1e1', /must be a number/],
    ['', /Enter the hours/],
  ])('rejects %j with a clear message', (text, message) => {
    const check = checkHours(text);
    expect(check.ok, `${text} is not loggable`).toBe(false);
    if (!check.ok) expect(check.message).toMatch(message);
  });
});

describe('checkOptionalHours', () => {
  it('treats blank as no value and rejects words', () => {
    expect(checkOptionalHours('  ', 'Budget')).toEqual({ ok: true, value: null });
    expect(checkOptionalHours('12.5', 'Budget')).toEqual({ ok: true, value: '12.5' });
    expect(checkOptionalHours('ten', 'Budget').ok).toBe(false);
  });
});

describe('checkExtraHours', () => {
  it('accepts any positive amount with up to two decimals, blank as none', () => {
    expect(checkExtraHours('', 'Extra hours')).toEqual({ ok: true, value: null });
    expect(checkExtraHours('0.1', 'Extra hours'), 'not a quarter step, still fine').toEqual({ ok: true, value: '0.1' });
    expect(checkExtraHours('1,50', 'Extra hours')).toEqual({ ok: true, value: '1.5' });
    expect(checkExtraHours('40', 'Extra hours')).toEqual({ ok: true, value: '40' });
  });

  it.each([
    ['0', /more than 0/],
    ['0.00', /more than 0/],
    ['-1', /at most two decimals/],
    ['1.255', /at most two decimals/],
    ['two', /at most two decimals/],
  ])('rejects %j', (text, message) => {
    const check = checkExtraHours(text, 'Extra hours');
    expect(check.ok).toBe(false);
    if (!check.ok) expect(check.message).toMatch(message);
  });
});

describe('hundredthsOf', () => {
  it('reads the core\'s exact hours as whole hundredths', () => {
    expect(hundredthsOf('2.00')).toBe(200);
    expect(hundredthsOf('0.25')).toBe(25);
    expect(hundredthsOf('-1.50')).toBe(-150);
    expect(hundredthsOf('12')).toBe(1200);
  });
});
