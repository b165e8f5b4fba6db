// Hours as the core sends them — exact decimal text ("1.50") — shown as
// people write them, and validation of hours typed by a person. The core
// validates again (it is the authority) and gives the limits (LOGGED_HOURS,
// generated from Rust); this gives an inline message before anything is sent.

import { LOGGED_HOURS, type Hours } from '../bindings';

/**
 * Exact hours text ("24.00", "0.25", "-1.50") in hundredths; the core sends at
 * most two decimals. Integers, so totals compare and scale without float drift.
 */
export function hundredthsOf(hours: Hours): number {
  const negative = hours.startsWith('-');
  const [whole, fraction = ''] = (negative ? hours.slice(1) : hours).split('.');
  const value = Number(whole || '0') * 100 + Number((fraction + '00').slice(0, 2));
  return negative ? -value : value;
}

const MIN = hundredthsOf(LOGGED_HOURS.min);
const STEP = hundredthsOf(LOGGED_HOURS.step);
const MAX = hundredthsOf(LOGGED_HOURS.max);
const STEP_MESSAGE = `Hours go in steps of ${formatHours(LOGGED_HOURS.step)} (${(STEP * 60) / 100} minutes).`;

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
    return { ok: false, message: STEP_MESSAGE };
  }
  const hundredths = hundredthsOf(`${whole || '0'}.${fraction}`);
  if (hundredths < MIN) return { ok: false, message: `The least you can log is ${formatHours(LOGGED_HOURS.min)} hours.` };
  if (hundredths > MAX) return { ok: false, message: `The most you can log is ${formatHours(LOGGED_HOURS.max)} hours.` };
  if (hundredths % STEP !== 0) {
    return { ok: false, message: STEP_MESSAGE };
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

/** Exact hours from the core ("1.50", "-0.25") as people write them: "1.5", "-0.25", "2"; "—" for none. */
export function formatHours(hours: Hours | null): string {
  if (hours === null) return '—';
  const [whole, fraction = ''] = hours.split('.');
  const kept = fraction.replace(/0+$/, '');
  return kept === '' ? whole : `${whole}.${kept}`;
}

/** Whether exact hours from the core are more than zero. */
export function isPositive(hours: Hours | null): hours is Hours {
  return hours !== null && !hours.startsWith('-') && /[1-9]/.test(hours);
}
