// Validation of hours typed by a person. The core validates again (it is the
// authority); this gives an inline message before anything is sent.

export const MIN_HOURS = 0.25;
export const MAX_HOURS = 24;
export const STEP_HOURS = 0.25;

export type HoursCheck = { ok: true; value: string } | { ok: false; message: string };

/**
 * Accepts `0.25`…`24` in quarter steps, written with a dot or a comma
 * ("1,5"). Returns the normalised text the core parses ("1.5"); works in
 * hundredths so no float rounding can let 0.3 pass.
 */
export function checkHours(text: string): HoursCheck {
  const raw = text.trim().replace(',', '.');
  if (raw === '') return { ok: false, message: 'Enter the hours worked, e.g. 0.5 or 1.25.' };
  if (!/^\d+(\.\d+)?$|^\.\d+$/.test(raw)) {
    return { ok: false, message: 'Hours must be a number, e.g. 0.5 or 1.25.' };
  }
  const [whole, fraction = ''] = raw.split('.');
  if (fraction.replace(/0+$/, '').length > 2) {
    return { ok: false, message: 'Hours go in steps of 0.25 (15 minutes).' };
  }
  const hundredths = Number(whole || '0') * 100 + Number((fraction + '00').slice(0, 2));
  if (hundredths < MIN_HOURS * 100) return { ok: false, message: 'The least you can log is 0.25 hours.' };
  if (hundredths > MAX_HOURS * 100) return { ok: false, message: 'The most you can log is 24 hours.' };
  if (hundredths % (STEP_HOURS * 100) !== 0) {
    return { ok: false, message: 'Hours go in steps of 0.25 (15 minutes).' };
  }
  return { ok: true, value: String(hundredths / 100) };
}

/**
 * Optional non-negative hours (budget, quoted, extra): blank means "none".
 * Returns the normalised text or a message.
 */
export type OptionalHoursCheck = { ok: true; value: string | null } | { ok: false; message: string };

export function checkOptionalHours(text: string, label: string): OptionalHoursCheck {
  const raw = text.trim().replace(',', '.');
  if (raw === '') return { ok: true, value: null };
  if (!/^\d+(\.\d{1,2})?$/.test(raw)) {
    return { ok: false, message: `${label} must be a number of hours with at most two decimals.` };
  }
  return { ok: true, value: String(Number(raw)) };
}

/**
 * Optional extra hours (asked for or granted on an unlock): like a budget,
 * not a logged quarter, so any amount above 0 with at most two decimals.
 * Blank means "none".
 */
export function checkExtraHours(text: string, label: string): OptionalHoursCheck {
  const check = checkOptionalHours(text, label);
  if (check.ok && check.value !== null && Number(check.value) <= 0) {
    return { ok: false, message: `${label} must be more than 0.` };
  }
  return check;
}
