// Shared WebDriver helpers for the desktop end-to-end tests (tauri-driver +
// WebKitWebDriver). Node 20, no npm dependencies.
//
// - `wd()` is one W3C WebDriver request over the global fetch, which keeps
//   connections alive: a client sending `Connection: close` on every request
//   was reset by tauri-driver in about one run in four.
// - Text is read in the page (`textContent`): WebKitWebDriver's visible-text
//   endpoint drops text inside ellipsis-truncated spans.

import { spawn } from 'node:child_process';
import { accessSync, constants, openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const DRIVER_URL = 'http://127.0.0.1:4444';
export const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';
export const STARTUP_TIMEOUT_MS = 20_000;
export const POLL_MS = 250;

/** An expected test failure: its message is the whole story (no stack). */
export class Failure extends Error {}

export function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

export function findTauriDriver() {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'tauri-driver');
    if (isExecutable(candidate)) return candidate;
  }
  const cargoBin = join(process.env.HOME ?? '', '.cargo', 'bin', 'tauri-driver');
  if (isExecutable(cargoBin)) return cargoBin;
  throw new Failure('tauri-driver not found on PATH or in $HOME/.cargo/bin (cargo install tauri-driver --locked)');
}

/** One WebDriver request; throws a Failure carrying `webdriverError` on an error answer. */
export async function wd(method, path, body, timeoutMs = 30_000) {
  let response;
  try {
    response = await fetch(`${DRIVER_URL}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json; charset=utf-8' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (error) {
    throw new Failure(`${method} ${path}: ${error.cause?.message ?? error.message}`);
  }
  const text = await response.text();
  let json;
  try {
    json = text ? JSON.parse(text) : {};
  } catch {
    throw new Failure(`${method} ${path}: HTTP ${response.status}, not JSON: ${text.slice(0, 200)}`);
  }
  const value = json?.value;
  if (!response.ok || (value && typeof value === 'object' && 'error' in value)) {
    const error = new Failure(
      `${method} ${path}: HTTP ${response.status} ${value?.error ?? ''}: ${value?.message ?? text.slice(0, 200)}`,
    );
    error.webdriverError = value?.error;
    throw error;
  }
  return value;
}

export async function waitForDriver(driver, timeoutMs = STARTUP_TIMEOUT_MS) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (driver.exitCode !== null || driver.signalCode !== null) {
      throw new Failure(`tauri-driver exited early (code ${driver.exitCode}, signal ${driver.signalCode})`);
    }
    try {
      const response = await fetch(`${DRIVER_URL}/status`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok) {
        await response.arrayBuffer();
        return;
      }
    } catch {
      // Not listening yet.
    }
    await sleep(POLL_MS);
  }
  throw new Failure(`tauri-driver did not answer ${DRIVER_URL}/status within ${timeoutMs / 1000} s`);
}

export async function driverAlreadyRunning() {
  try {
    const response = await fetch(`${DRIVER_URL}/status`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/**
 * Starts tauri-driver in its own process group (so stopping it also ends
 * WebKitWebDriver and the app if they linger), logging to `logFile`, and waits
 * until it answers. `env` reaches the app: tauri-driver and WebKitWebDriver
 * pass their environment on.
 */
export async function startDriver({ logFile, env = process.env, log = () => {} }) {
  if (await driverAlreadyRunning()) {
    throw new Failure(`something already answers on ${DRIVER_URL}; stop it first (a stale tauri-driver?)`);
  }
  const driverPath = findTauriDriver();
  const logFd = openSync(logFile, 'w');
  const driver = spawn(driverPath, [], { env, stdio: ['ignore', logFd, logFd], detached: true });
  closeSync(logFd);
  driver.on('error', (error) => log(`tauri-driver: ${error.message}`));
  log(`tauri-driver started (pid ${driver.pid}), log in ${logFile}`);
  try {
    await waitForDriver(driver);
  } catch (error) {
    await stopDriver(driver);
    throw error;
  }
  return driver;
}

/** SIGTERM to tauri-driver's process group, SIGKILL after 3 s. */
export async function stopDriver(driver) {
  if (!driver || !driver.pid || driver.exitCode !== null || driver.signalCode !== null) return;
  const exited = new Promise((done) => driver.once('exit', done));
  const signalGroup = (signal) => {
    try {
      process.kill(-driver.pid, signal);
    } catch {
      // Already gone.
    }
  };
  signalGroup('SIGTERM');
  const timer = sleep(3_000).then(() => 'timeout');
  if ((await Promise.race([exited, timer])) === 'timeout') signalGroup('SIGKILL');
}

/** Creates a session for the Tauri app `application` started with `args`; returns its id. */
export async function newSession(application, args = [], timeoutMs = 60_000) {
  const options = args.length ? { application, args } : { application };
  const session = await wd('POST', '/session', { capabilities: { alwaysMatch: { 'tauri:options': options } } }, timeoutMs);
  if (!session?.sessionId) throw new Failure(`POST /session returned no sessionId: ${JSON.stringify(session)}`);
  return session.sessionId;
}

/** Deletes the session, which closes the app. */
export async function deleteSession(sessionId, log = () => {}) {
  await wd('DELETE', `/session/${sessionId}`, undefined, 10_000).catch((error) =>
    log(`could not delete the session: ${error.message}`),
  );
}

export function findElement(sessionId, css) {
  return wd('POST', `/session/${sessionId}/element`, { using: 'css selector', value: css });
}

export async function waitForElement(sessionId, css, timeoutMs) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    try {
      const element = await findElement(sessionId, css);
      return element[ELEMENT_KEY];
    } catch (error) {
      if (error.webdriverError !== 'no such element' || Date.now() >= deadline) throw error;
    }
    await sleep(POLL_MS);
  }
}

export async function textOf(sessionId, elementId) {
  return String(await wd('GET', `/session/${sessionId}/element/${elementId}/text`));
}

/** Runs `script` (a function body; `arguments` holds `args`) in the page and returns its result. */
export function execute(sessionId, script, args = []) {
  return wd('POST', `/session/${sessionId}/execute/sync`, { script, args });
}

/** The error banner's text, if the page shows one: the likeliest reason something is missing. */
export async function alertText(sessionId) {
  try {
    const text = await execute(
      sessionId,
      `const el = document.querySelector('[data-testid="error-banner"], [role="alert"]');
       return el ? el.textContent.replace(/\\s+/g, ' ').trim() : null;`,
    );
    return text || null;
  } catch {
    return null;
  }
}

export async function saveScreenshot(sessionId, file, log = () => {}) {
  const base64 = await wd('GET', `/session/${sessionId}/screenshot`);
  await writeFile(file, Buffer.from(String(base64), 'base64'));
  log(`screenshot saved to ${file}`);
}

/**
 * Polls `probe` every `intervalMs` until it returns a truthy value (returned).
 * Errors thrown by the probe count as "not yet"; the last one (or the last
 * value passed to `note`) is part of the timeout message.
 */
export async function waitUntil(what, probe, { timeoutMs = 10_000, intervalMs = POLL_MS } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  const note = (detail) => {
    last = typeof detail === 'string' ? detail : JSON.stringify(detail);
  };
  for (;;) {
    try {
      const value = await probe(note);
      if (value) return value;
    } catch (error) {
      last = error.message;
    }
    if (Date.now() >= deadline) {
      throw new Failure(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${last.slice(0, 400)})` : ''}`);
    }
    await sleep(intervalMs);
  }
}

// In-page helpers shared by the scripts below: find by test id, read state.
const PAGE_HELPERS = `
  const byTestId = (id, root = document) => root.querySelector('[data-testid="' + id + '"]');
  const textOf = (el) => (el ? el.textContent.replace(/\\s+/g, ' ').trim() : null);
  const visible = (el) => !!el && !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length)
    && getComputedStyle(el).visibility !== 'hidden';
  const checkbox = (el) => !el ? null : (el.matches('input') ? el : el.querySelector('input[type=checkbox]'));
  const isChecked = (el) => {
    if (!el) return null;
    const box = checkbox(el);
    if (box) return box.checked;
    const aria = el.getAttribute('aria-checked') ?? el.getAttribute('aria-pressed');
    return aria === null ? null : aria === 'true';
  };
  const isDisabled = (el) => !!el && (el.disabled === true || el.getAttribute('aria-disabled') === 'true'
    || el.readOnly === true || !!el.closest('fieldset[disabled]') || (checkbox(el)?.disabled ?? false));
`;

/**
 * A session bound to one app instance, with test-id based helpers. Test ids
 * are `data-testid` attributes (see docs/desktop-ipc.md).
 */
export class Session {
  constructor(id, log = () => {}) {
    this.id = id;
    this.log = log;
  }

  static sel(testId, extra = '') {
    return `[data-testid="${testId}"]${extra}`;
  }

  execute(script, args = []) {
    return execute(this.id, script, args);
  }

  /** Runs `body` after the in-page helpers (byTestId, textOf, visible, isChecked, isDisabled). */
  page(body, args = []) {
    return execute(this.id, `${PAGE_HELPERS}\n${body}`, args);
  }

  async find(css) {
    return (await findElement(this.id, css))[ELEMENT_KEY];
  }

  /** Waits until `css` is present (and, by default, visible) and returns its element id. */
  async waitFor(css, { timeoutMs = 10_000, visible = true, what } = {}) {
    await waitUntil(
      what ?? `${css} to ${visible ? 'be shown' : 'exist'}`,
      async (note) => {
        const state = await this.page(
          `const el = document.querySelector(arguments[0]); return el ? (visible(el) ? 'visible' : 'hidden') : 'absent';`,
          [css],
        );
        note(`${css} is ${state}`);
        return visible ? state === 'visible' : state !== 'absent';
      },
      { timeoutMs },
    );
    return this.find(css);
  }

  async waitGone(css, { timeoutMs = 10_000, what } = {}) {
    await waitUntil(what ?? `${css} to go away`, () =>
      this.page(`const el = document.querySelector(arguments[0]); return !el || !visible(el);`, [css]),
    { timeoutMs });
  }

  /** Clicks `css` once it is shown, retrying while it is not interactable yet. */
  async click(css, { timeoutMs = 10_000 } = {}) {
    await waitUntil(`${css} to be clickable`, async () => {
      const id = await this.waitFor(css, { timeoutMs });
      await wd('POST', `/session/${this.id}/element/${id}/click`, {});
      return true;
    }, { timeoutMs });
  }

  /** Replaces the value of the input/textarea `css` by typing `text`. */
  async type(css, text, { clear = true, timeoutMs = 10_000 } = {}) {
    const id = await this.waitFor(css, { timeoutMs });
    if (clear) await wd('POST', `/session/${this.id}/element/${id}/clear`, {});
    await wd('POST', `/session/${this.id}/element/${id}/value`, { text: String(text) });
    const value = await this.page(`const el = document.querySelector(arguments[0]); return el && 'value' in el ? el.value : null;`, [css]);
    if (value !== null && !String(value).includes(String(text))) {
      throw new Failure(`typed ${JSON.stringify(text)} into ${css} but it holds ${JSON.stringify(value)}`);
    }
  }

  /** Sends keys (e.g. '\uE012', ArrowLeft) to the element `css`, as a person pressing them there. */
  async keys(css, text, { timeoutMs = 10_000 } = {}) {
    const id = await this.waitFor(css, { timeoutMs });
    await wd('POST', `/session/${this.id}/element/${id}/value`, { text: String(text) });
  }

  /** Picks `value` in the <select> `css` (dispatching input + change) if it is not selected yet. */
  async select(css, value) {
    const result = await this.page(
      `const el = document.querySelector(arguments[0]);
       if (!el) return 'absent';
       if (el.tagName !== 'SELECT') return 'not a select';
       if (el.value === arguments[1]) return 'already';
       if (!Array.from(el.options).some((o) => o.value === arguments[1])) return 'no option ' + arguments[1] + ' in ' + Array.from(el.options).map((o) => o.value + '=' + o.textContent).join(', ');
       el.value = arguments[1];
       el.dispatchEvent(new Event('input', { bubbles: true }));
       el.dispatchEvent(new Event('change', { bubbles: true }));
       return 'set';`,
      [css, String(value)],
    );
    return result;
  }

  /** Ticks or unticks the checkbox-like `css` (a checkbox, a label around one, or an aria-checked toggle). */
  async setChecked(css, wanted = true) {
    await this.waitFor(css);
    const now = await this.page(`return isChecked(document.querySelector(arguments[0]));`, [css]);
    if (now === wanted) return;
    await this.click(css);
    await waitUntil(`${css} to be ${wanted ? 'ticked' : 'unticked'}`, () =>
      this.page(`return isChecked(document.querySelector(arguments[0])) === arguments[1];`, [css, wanted]),
    { timeoutMs: 5_000 });
  }

  isChecked(css) {
    return this.page(`return isChecked(document.querySelector(arguments[0]));`, [css]);
  }

  isDisabled(css) {
    return this.page(`const el = document.querySelector(arguments[0]); return el ? isDisabled(el) : null;`, [css]);
  }

  /** textContent (whitespace collapsed) of `css`, or null when absent. */
  text(css) {
    return this.page(`return textOf(document.querySelector(arguments[0]));`, [css]);
  }

  /** textContent of every match of `css`, plus its data-* attributes. */
  all(css) {
    return this.page(
      `return Array.from(document.querySelectorAll(arguments[0])).map((el) => ({ text: textOf(el), data: { ...el.dataset }, visible: visible(el) }));`,
      [css],
    );
  }

  alertText() {
    return alertText(this.id);
  }

  screenshot(file) {
    return saveScreenshot(this.id, file, this.log);
  }
}
