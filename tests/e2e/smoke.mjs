#!/usr/bin/env node
// Desktop smoke test: starts the real Tickettime binary through tauri-driver
// (WebDriver), checks the ticket list shows the expected subjects, and saves a
// screenshot. Node 20, no npm dependencies.
//
// Environment:
//   TICKETTIME_DESKTOP_BIN  absolute path of the built app binary (required)
//   TICKETTIME_DB           database the app opens; reaches the app because
//                           tauri-driver and WebKitWebDriver inherit our env
//   E2E_EXPECT_SUBJECTS     `|`-separated subjects that must all be listed
//   E2E_OUT                 output directory (default test-output/e2e)
//
// Run it inside `dbus-run-session -- xvfb-run -a …` on Linux (see README.md).

import { spawn } from 'node:child_process';
import { accessSync, constants, mkdirSync, openSync, closeSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { delimiter, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DRIVER_URL = 'http://127.0.0.1:4444';
const ELEMENT_KEY = 'element-6066-11e4-a52e-4f735466cecf';
const STARTUP_TIMEOUT_MS = 20_000;
const LIST_TIMEOUT_MS = 20_000;
const POLL_MS = 250;

class Failure extends Error {}

function log(message) {
  console.log(`[smoke] ${message}`);
}

function isExecutable(path) {
  try {
    accessSync(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

function findTauriDriver() {
  for (const dir of (process.env.PATH ?? '').split(delimiter).filter(Boolean)) {
    const candidate = join(dir, 'tauri-driver');
    if (isExecutable(candidate)) return candidate;
  }
  const cargoBin = join(process.env.HOME ?? '', '.cargo', 'bin', 'tauri-driver');
  if (isExecutable(cargoBin)) return cargoBin;
  throw new Failure('tauri-driver not found on PATH or in $HOME/.cargo/bin (cargo install tauri-driver --locked)');
}

/**
 * One WebDriver request. Uses the global fetch on purpose: it keeps the
 * connection alive, and a client sending `Connection: close` on every request
 * was reset by tauri-driver in about one run in four.
 */
async function wd(method, path, body, timeoutMs = 30_000) {
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

async function waitForDriver(driver) {
  const deadline = Date.now() + STARTUP_TIMEOUT_MS;
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
  throw new Failure(`tauri-driver did not answer ${DRIVER_URL}/status within ${STARTUP_TIMEOUT_MS / 1000} s`);
}

async function driverAlreadyRunning() {
  try {
    const response = await fetch(`${DRIVER_URL}/status`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

function findElement(sessionId, css) {
  return wd('POST', `/session/${sessionId}/element`, { using: 'css selector', value: css });
}

async function waitForElement(sessionId, css, timeoutMs) {
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

async function textOf(sessionId, elementId) {
  return String(await wd('GET', `/session/${sessionId}/element/${elementId}/text`));
}

/**
 * The rows' text content, read in the page. WebKitWebDriver's "visible text"
 * leaves out text inside ellipsis-truncated spans (the subject), so the
 * element text endpoint cannot be trusted for this check.
 */
async function rowTexts(sessionId) {
  const script =
    'return Array.from(document.querySelectorAll(\'[data-testid="ticket-row"]\')).map((row) => row.textContent);';
  return (await wd('POST', `/session/${sessionId}/execute/sync`, { script, args: [] })).map(String);
}

/** The error banner's text, if the page shows one: the likeliest reason the list is missing. */
async function alertText(sessionId) {
  try {
    const element = await findElement(sessionId, '[role="alert"]');
    return await textOf(sessionId, element[ELEMENT_KEY]);
  } catch {
    return null;
  }
}

async function saveScreenshot(sessionId, file) {
  const base64 = await wd('GET', `/session/${sessionId}/screenshot`);
  await writeFile(file, Buffer.from(String(base64), 'base64'));
  log(`screenshot saved to ${file}`);
}

async function run(state, outDir) {
  const bin = process.env.TICKETTIME_DESKTOP_BIN;
  if (!bin) throw new Failure('TICKETTIME_DESKTOP_BIN is not set (absolute path of the built app binary)');
  if (!isAbsolute(bin)) throw new Failure(`TICKETTIME_DESKTOP_BIN must be absolute, got ${bin}`);
  if (!isExecutable(bin)) throw new Failure(`TICKETTIME_DESKTOP_BIN is not an executable file: ${bin}`);
  const expected = (process.env.E2E_EXPECT_SUBJECTS ?? '')
    .split('|')
    .map((s) => s.trim())
    .filter(Boolean);
  log(`app: ${bin}`);
  log(`database: ${process.env.TICKETTIME_DB ?? '(TICKETTIME_DB not set: the app uses its default)'}`);

  if (await driverAlreadyRunning()) {
    throw new Failure(`something already answers on ${DRIVER_URL}; stop it first (a stale tauri-driver?)`);
  }

  const driverPath = findTauriDriver();
  const driverLog = join(outDir, 'tauri-driver.log');
  const logFd = openSync(driverLog, 'w');
  // Own process group, so cleanup also ends WebKitWebDriver and the app if
  // tauri-driver leaves them behind.
  state.driver = spawn(driverPath, [], {
    env: process.env,
    stdio: ['ignore', logFd, logFd],
    detached: true,
  });
  closeSync(logFd);
  state.driver.on('error', (error) => log(`tauri-driver: ${error.message}`));
  log(`tauri-driver started (pid ${state.driver.pid}), log in ${driverLog}`);
  await waitForDriver(state.driver);

  const session = await wd(
    'POST',
    '/session',
    { capabilities: { alwaysMatch: { 'tauri:options': { application: bin } } } },
    60_000,
  );
  state.sessionId = session.sessionId;
  if (!state.sessionId) throw new Failure(`POST /session returned no sessionId: ${JSON.stringify(session)}`);
  log(`session ${state.sessionId}`);

  try {
    await waitForElement(state.sessionId, '[data-testid="ticket-list"]', LIST_TIMEOUT_MS);
  } catch (error) {
    const banner = await alertText(state.sessionId);
    await saveScreenshot(state.sessionId, join(outDir, 'ticket-list-failure.png')).catch(() => {});
    throw new Failure(
      `the ticket list did not appear within ${LIST_TIMEOUT_MS / 1000} s` +
        (banner ? `; the page shows an error: ${banner}` : '') +
        ` (${error.message})`,
    );
  }

  const texts = await rowTexts(state.sessionId);
  log(`${texts.length} ticket row(s):`);
  for (const text of texts) log(`  ${text.replace(/\s+/g, ' ').trim()}`);

  await saveScreenshot(state.sessionId, join(outDir, 'ticket-list.png'));

  const missing = expected.filter((subject) => !texts.some((text) => text.includes(subject)));
  if (missing.length > 0) {
    throw new Failure(`expected subject(s) not in the ticket list: ${missing.map((s) => JSON.stringify(s)).join(', ')}`);
  }
  if (expected.length === 0) log('E2E_EXPECT_SUBJECTS is empty: only checked that the list renders');
}

async function cleanup(state) {
  if (state.sessionId) {
    // Deleting the session closes the app.
    await wd('DELETE', `/session/${state.sessionId}`, undefined, 10_000).catch((error) =>
      log(`could not delete the session: ${error.message}`),
    );
    state.sessionId = null;
  }
  const driver = state.driver;
  if (driver && driver.pid && driver.exitCode === null && driver.signalCode === null) {
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
  state.driver = null;
}

async function main() {
  const outDir = resolve(process.env.E2E_OUT || 'test-output/e2e');
  mkdirSync(outDir, { recursive: true });
  const state = { driver: null, sessionId: null };
  const interrupted = async (signal) => {
    log(`interrupted by ${signal}`);
    await cleanup(state);
    console.log('0 passed, 1 failed');
    process.exit(1);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  let ok = false;
  try {
    await run(state, outDir);
    ok = true;
  } catch (error) {
    console.error(`[smoke] FAILED: ${error instanceof Failure ? error.message : error.stack ?? error}`);
  } finally {
    await cleanup(state);
  }
  console.log(ok ? '1 passed, 0 failed' : '0 passed, 1 failed');
  // Exit explicitly: kept-alive sockets would otherwise hold the loop open.
  process.exit(ok ? 0 : 1);
}

await main();
