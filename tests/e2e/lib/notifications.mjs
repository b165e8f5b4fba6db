// Test-side handle on tests/e2e/support/notifyd.py: a notification server on
// the private session bus that records every Notify call as a JSON line.
//
//   const notifications = await startNotifications({ logFile });
//   const n = await notifications.waitFor((n) => n.summary.includes('#2'), { what: 'the over-budget notification' });
//   notifications.invokeAction(n.id, 'approve');   // emits ActionInvoked(id, 'approve')
//   await notifications.stop();
//
// Start it before the app (inside the same dbus-run-session).

import { appendFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

import { HelperProcess } from './helper-process.mjs';

export async function startNotifications({ logFile, stderrFile, readyTimeoutMs = 10_000 }) {
  writeFileSync(logFile, '');
  writeFileSync(`${logFile}.actions`, '');
  const helper = new HelperProcess('notifyd.py', ['--log', logFile], { stderrFile, name: 'notifyd' });
  try {
    await helper.waitReady(readyTimeoutMs);
  } catch (error) {
    await helper.stop();
    throw error;
  }

  /** Every notification received so far, oldest first. */
  function all() {
    if (!existsSync(logFile)) return [];
    return readFileSync(logFile, 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .map((line) => JSON.parse(line));
  }

  /** Polls until a notification matches `predicate`; returns it. */
  async function waitFor(predicate, { timeoutMs = 10_000, what = 'a matching notification', since = 0 } = {}) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = all().slice(since).find(predicate);
      if (found) return found;
      if (!helper.alive) throw new Error(`notifyd exited while waiting for ${what}`);
      if (Date.now() >= deadline) {
        const got = all().map((n) => `${JSON.stringify(n.summary)}: ${JSON.stringify(n.body)}`);
        throw new Error(`no ${what} within ${timeoutMs / 1000} s; received ${got.length ? got.join(' | ') : 'none'}`);
      }
      await sleep(200);
    }
  }

  /** Makes notifyd emit ActionInvoked(id, key) (then NotificationClosed(id, 2)) within ~200 ms. */
  function invokeAction(id, key) {
    appendFileSync(`${logFile}.actions`, `${id} ${key}\n`);
  }

  return { all, waitFor, invokeAction, stop: () => helper.stop(), logFile, helper };
}
