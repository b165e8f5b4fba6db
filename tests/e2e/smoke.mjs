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

import { mkdirSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

import {
  Failure,
  alertText,
  deleteSession,
  execute,
  isExecutable,
  newSession,
  saveScreenshot as saveScreenshotAs,
  startDriver,
  stopDriver,
  waitForElement,
} from './lib/webdriver.mjs';

const LIST_TIMEOUT_MS = 20_000;

function log(message) {
  console.log(`[smoke] ${message}`);
}

/**
 * The rows' text content, read in the page. WebKitWebDriver's "visible text"
 * leaves out text inside ellipsis-truncated spans (the subject), so the
 * element text endpoint cannot be trusted for this check.
 */
async function rowTexts(sessionId) {
  const script =
    'return Array.from(document.querySelectorAll(\'[data-testid="ticket-row"]\')).map((row) => row.textContent);';
  return (await execute(sessionId, script)).map(String);
}

function saveScreenshot(sessionId, file) {
  return saveScreenshotAs(sessionId, file, log);
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

  // Own process group, so cleanup also ends WebKitWebDriver and the app if
  // tauri-driver leaves them behind.
  state.driver = await startDriver({ logFile: join(outDir, 'tauri-driver.log'), env: process.env, log });
  state.sessionId = await newSession(bin);
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
    await deleteSession(state.sessionId, log);
    state.sessionId = null;
  }
  await stopDriver(state.driver);
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
