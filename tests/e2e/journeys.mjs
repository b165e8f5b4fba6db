#!/usr/bin/env node
// Desktop journeys: the real Tickettime binary in demo mode, driven through
// tauri-driver (WebDriver), with a notification server and a tray host
// (StatusNotifierWatcher) of our own on the private session bus, and the
// app's in-process Harvest simulator as the other side. Node 20, no npm deps.
//
//   node tests/e2e/journeys.mjs                 # all journeys
//   node tests/e2e/journeys.mjs --only log      # one (or a comma list)
//   node tests/e2e/journeys.mjs --list
//
// Run inside `dbus-run-session -- xvfb-run -a -s "-screen 0 1280x800x24" …`
// (see README.md). Each journey gets a fresh app (new session, new HOME) and
// saves E2E_OUT/<journey>.png. Prints "ok"/"FAIL: reason" per journey and
// finally `N passed, M failed`; exits 1 when any failed.
//
// Environment:
//   TICKETTIME_DESKTOP_BIN  the app binary (default $CARGO_TARGET_DIR/debug/tickettime-desktop)
//   E2E_OUT                 output directory (default test-output/e2e)
//   E2E_DEMO_PORT           the simulator's port (default 47900), passed to the
//                           app as TICKETTIME_DEMO_PORT
//
// The app is expected to honour (it inherits them through tauri-driver):
//   --demo                              demo data + in-process Harvest simulator
//   TICKETTIME_DEMO_PORT=47900          the simulator's port (control: /__sim/…)
//   TICKETTIME_SYNC_INTERVAL_SECS=2     background import every 2 s
//   HOME (temporary), NO_AT_BRIDGE=1

import { spawn, spawnSync } from 'node:child_process';
import { createWriteStream, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

import {
  Failure,
  Session,
  deleteSession,
  isExecutable,
  newSession,
  startDriver,
  stopDriver,
  waitUntil,
} from './lib/webdriver.mjs';
import { startNotifications } from './lib/notifications.mjs';
import { menuItems, startTray, trayTitle } from './lib/tray.mjs';

const sel = Session.sel;
const DEMO_PORT = Number(process.env.E2E_DEMO_PORT || 47900);
const SIM_URL = `http://127.0.0.1:${DEMO_PORT}`;
const SYNC_INTERVAL_SECS = 2;
const JOURNEY_TIMEOUT_MS = 120_000;
const LIST_TIMEOUT_MS = 25_000;

// Demo data (seeded by the app; see the brief in docs/desktop-ipc.md).
const PM_USER = 4955602; // Pia Park, the signed-in PM
const MEMBER_USER = 4955603; // Ana
const SUPPORT_TASK = 22630201;
const PROJECT = { 1: 41068201, 2: 41068202, 3: 41068203, 4: 41068204 };

function log(message) {
  console.log(`[journeys] ${message}`);
}

// ---------------------------------------------------------------------------
// The simulator's control surface

async function sim(method, path, body) {
  let response;
  try {
    response = await fetch(`${SIM_URL}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(5_000),
    });
  } catch (error) {
    throw new Failure(`simulator ${method} ${path}: ${error.cause?.message ?? error.message} (is the app's simulator on ${SIM_URL}?)`);
  }
  const text = await response.text();
  if (!response.ok) throw new Failure(`simulator ${method} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`);
  return text ? JSON.parse(text) : null;
}

async function simEntries() {
  return (await sim('GET', '/__sim/time_entries')).time_entries ?? [];
}

const projectOf = (entry) => entry.project?.id ?? entry.project_id;
const userOf = (entry) => entry.user?.id ?? entry.user_id;
const describeEntry = (e) =>
  `#${e.id} project ${projectOf(e)} user ${userOf(e)} ${e.hours} h${e.is_running ? ' running' : ''} notes ${JSON.stringify(e.notes)} ref ${JSON.stringify(e.external_reference)}`;

async function simAnswers() {
  try {
    const response = await fetch(`${SIM_URL}/__sim/time_entries`, { signal: AbortSignal.timeout(1_000) });
    await response.arrayBuffer();
    return true;
  } catch {
    return false;
  }
}

/** Waits for a time entry matching `predicate` in the simulator; returns it. */
function waitForEntry(what, predicate, timeoutMs = 15_000) {
  return waitUntil(
    what,
    async (note) => {
      const entries = await simEntries();
      const found = entries.find(predicate);
      if (!found) {
        const recent = [...entries].sort((a, b) => b.id - a.id).slice(0, 3).map(describeEntry);
        note(`newest entries: ${recent.join('; ') || 'none'}`);
      }
      return found;
    },
    { timeoutMs, intervalMs: 300 },
  );
}

/** Today as YYYY-MM-DD in local time (what the app uses as spent_date). */
function today() {
  const d = new Date();
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}`;
}

// ---------------------------------------------------------------------------
// UI steps

function check(condition, message) {
  if (!condition) throw new Failure(message);
}

const row = (number) => `${sel('ticket-row')}[data-number="${number}"]`;

async function openTicket(s, number) {
  await s.click(row(number), { timeoutMs: 10_000 });
  await s.waitFor(sel('ticket-view'), { what: `the ticket view of #${number} after clicking its row` });
}

/** Opens the Reply or Note tab and ticks Log Time; the panel's hours/timer controls show. */
async function openLogTime(s, tab) {
  await s.click(sel(`tab-${tab}`));
  await s.waitFor(sel('entry-body'), { what: `the ${tab} editor (entry-body) after clicking tab-${tab}` });
  await s.setChecked(sel('logtime-toggle'), true);
  await s.waitFor(sel('logtime-timer-start') + ',' + sel('logtime-timer-stop') + ',' + sel('logtime-hours'), {
    what: 'the Log Time panel after ticking logtime-toggle',
  });
  const task = await s.select(sel('logtime-task'), SUPPORT_TASK);
  if (task !== 'set' && task !== 'already' && task !== 'absent') log(`logtime-task: ${task}`);
}

/** Clicks ▶ Start (saying yes to the ≥ 90 % question if asked) and waits for the running entry. */
async function startTimer(s, number) {
  await s.click(sel('logtime-timer-start'));
  return waitUntil(
    `a running timer entry on project ${PROJECT[number]} in the simulator after ▶ Start on #${number}`,
    async (note) => {
      if (await s.page(`return visible(byTestId('confirm-dialog'));`)) {
        log(`confirm dialog: ${await s.text(sel('confirm-dialog'))} — saying yes`);
        await s.click(sel('confirm-yes'));
      }
      const banner = await s.alertText();
      if (banner) note(`the page shows: ${banner}`);
      const entries = await simEntries();
      return entries.find((e) => e.is_running && projectOf(e) === PROJECT[number] && userOf(e) === PM_USER);
    },
    { timeoutMs: 15_000, intervalMs: 300 },
  );
}

/** The timeline's items, opening the Timeline tab if none are on screen. */
async function timelineItems(s) {
  let items = await s.all(sel('timeline-item'));
  if (items.filter((i) => i.visible).length === 0 && (await s.page(`return !!byTestId('tab-timeline');`))) {
    await s.click(sel('tab-timeline'));
    items = await s.all(sel('timeline-item'));
  }
  return items;
}

function waitForTimeline(s, what, predicate) {
  return waitUntil(
    `the timeline to show ${what}`,
    async (note) => {
      const items = await timelineItems(s);
      note(`${items.length} item(s); last: ${items.slice(-3).map((i) => `[${i.data.kind}] ${i.text}`).join(' | ')}`);
      return items.find(predicate);
    },
    { timeoutMs: 10_000 },
  );
}

/** Problems of `text` as notification body markup (the server advertises body-markup). */
function markupProblems(text) {
  const problems = [];
  if (/&(?!(amp|lt|gt|quot|apos|#\d+|#x[0-9a-f]+);)/i.test(text)) problems.push('a bare "&"');
  const withoutTags = text.replace(/<\/?(b|i|u)>|<a\s[^>]*>|<\/a>|<img\s[^>]*\/?>/gi, '');
  if (/[<>]/.test(withoutTags)) problems.push('a bare "<" or ">"');
  return problems;
}

const decodeEntities = (text) =>
  text.replace(/&lt;/g, '<').replace(/&gt;/g, '>').replace(/&quot;/g, '"').replace(/&apos;/g, "'").replace(/&amp;/g, '&');

// ---------------------------------------------------------------------------
// The journeys. Each gets { s: Session, notifications, tray, trayItemsBefore }.

async function journeyLog({ s }) {
  const body = `E2E note ${Date.now()}: checked the VPN logs`;
  await openTicket(s, 1);
  await openLogTime(s, 'note');
  await s.type(sel('logtime-hours'), '0.5');
  await s.type(sel('entry-body'), body);
  await s.click(sel('submit-entry'));

  const entry = await waitForEntry(
    'a 0.5 h entry on project 41068201 with external_reference {group_id: "tickettime", id: "1"}',
    (e) =>
      Math.abs(Number(e.hours) - 0.5) < 1e-9 &&
      projectOf(e) === PROJECT[1] &&
      e.external_reference?.group_id === 'tickettime' &&
      String(e.external_reference?.id) === '1',
  );
  log(`simulator entry: ${describeEntry(entry)}`);
  check(userOf(entry) === PM_USER, `the entry was logged for user ${userOf(entry)}, expected Pia (${PM_USER})`);
  check(!entry.is_running, 'the logged entry is running; expected a finished 0.5 h entry');

  await waitForTimeline(s, 'a time item with 0.5 h', (i) => i.data.kind === 'time' && /(^|[^\d])0?[.,]5\b|0:30/.test(i.text));
}

async function journeyTimer({ s }) {
  const notes = `E2E timer notes ${Date.now()}`;
  const body = `E2E reply ${Date.now()}: SSO is fixed, please retry`;
  await openTicket(s, 3);
  await openLogTime(s, 'reply');
  const running = await startTimer(s, 3);
  log(`running entry: ${describeEntry(running)}`);

  // Switching tabs keeps the panel and the timer.
  await s.click(sel('tab-note'));
  await s.waitFor(sel('entry-body'), { what: 'the note editor after clicking tab-note' });
  check((await s.isChecked(sel('logtime-toggle'))) === true, 'Log Time is no longer ticked after switching to the Note tab');
  await s.waitFor(sel('logtime-timer-stop'), { what: 'the ⏹ Stop button on the Note tab (the timer should still run)' });
  const still = (await simEntries()).find((e) => e.id === running.id);
  check(still?.is_running, `the simulator's entry #${running.id} stopped when switching tabs: ${still ? describeEntry(still) : 'gone'}`);

  await s.click(sel('logtime-timer-stop'));
  const elapsed = await waitUntil(
    'logtime-elapsed to show the stopped time with ✓',
    async (note) => {
      const text = await s.text(sel('logtime-elapsed'));
      note(`logtime-elapsed: ${JSON.stringify(text)}`);
      return text && text.includes('✓') ? text : null;
    },
    { timeoutMs: 10_000 },
  );
  log(`elapsed: ${elapsed}`);
  await s.type(sel('logtime-notes'), notes);

  await s.click(sel('tab-reply'));
  await s.waitFor(sel('entry-body'), { what: 'the reply editor after clicking tab-reply' });
  check((await s.isChecked(sel('logtime-toggle'))) === true, 'Log Time is no longer ticked after switching back to Reply');
  await s.type(sel('entry-body'), body);
  await s.click(sel('submit-entry'));

  const done = await waitForEntry(
    `entry #${running.id} stopped with the notes ${JSON.stringify(notes)}`,
    (e) => e.id === running.id && !e.is_running && String(e.notes ?? '').includes(notes),
  );
  log(`simulator entry: ${describeEntry(done)}`);
  await waitForTimeline(s, 'the reply', (i) => i.data.kind === 'response' && i.text.includes(body.slice(0, 40)));
}

async function journeyOverBudget({ s, notifications }) {
  const before = notifications.all().length;
  const badge = `${row(2)} ${sel('over-budget-badge')}`;
  check(!(await s.page(`return !!document.querySelector(arguments[0]);`, [badge])), 'ticket #2 shows over-budget-badge before the import');

  const added = await sim('POST', '/__sim/time_entries', {
    user_id: MEMBER_USER,
    project_id: PROJECT[2],
    task_id: SUPPORT_TASK,
    spent_date: today(),
    hours: 2,
    notes: 'Ana: e2e import pushes Globex billing over budget',
    external_reference: null,
  });
  log(`added in Harvest (as Ana): ${describeEntry(added)}`);
  const t0 = Date.now();
  await s.waitFor(badge, {
    timeoutMs: 12_000,
    what: `over-budget-badge on ticket #2's row after the background import (every ${SYNC_INTERVAL_SECS} s; expected within 10 s)`,
  });
  log(`badge after ${((Date.now() - t0) / 1000).toFixed(1)} s`);

  await openTicket(s, 2);
  const reason = await waitUntil(
    'lock-reason on ticket #2',
    async () => {
      const text = await s.page(`const el = byTestId('lock-reason'); return el && visible(el) ? textOf(el) : null;`);
      return text || null;
    },
    { timeoutMs: 5_000 },
  );
  log(`lock reason: ${reason}`);

  // "Reply is disabled": the Reply tab itself, or its editor / submit button.
  let replyDisabled = (await s.isDisabled(sel('tab-reply'))) === true;
  if (!replyDisabled && (await s.page(`return !!byTestId('tab-reply');`))) {
    await s.click(sel('tab-reply')).catch(() => {});
    await sleep(300);
    replyDisabled = await s.page(
      `const body = byTestId('entry-body'), submit = byTestId('submit-entry');
       return (!submit || !visible(submit) || isDisabled(submit)) && (!body || !visible(body) || isDisabled(body) || isDisabled(submit));`,
    );
  }
  check(replyDisabled, 'ticket #2 is over budget but its reply (tab-reply, entry-body or submit-entry) is not disabled');

  const notification = await notifications.waitFor(
    (n) => {
      const text = decodeEntities(`${n.summary} ${n.body}`);
      return text.includes('#2') && /over[ -]?budget|locked|budget/i.test(text);
    },
    { since: before, timeoutMs: 10_000, what: 'notification about #2 being over budget / locked' },
  );
  log(`notification: ${JSON.stringify(notification.summary)} / ${JSON.stringify(notification.body)}`);
  for (const n of notifications.all().slice(before)) {
    const problems = markupProblems(n.body);
    check(problems.length === 0, `notification body ${JSON.stringify(n.body)} is not escaped for body-markup: ${problems.join(', ')}`);
  }
}

async function journeyTray({ s, tray, trayItemsBefore }) {
  const item = await tray.waitFor(
    async () => (await tray.items()).find((i) => !trayItemsBefore.includes(i)),
    15_000,
    'the app to register its tray item with the StatusNotifierWatcher',
  );
  log(`tray item: ${item}`);

  await openTicket(s, 1);
  await openLogTime(s, 'reply');
  const running = await startTimer(s, 1);
  log(`running entry: ${describeEntry(running)}`);

  const title = await tray.waitFor(
    async () => {
      const t = trayTitle(await tray.props(item));
      return t.includes('#1') ? t : null;
    },
    10_000,
    'the tray title (XAyatanaLabel/Title) to mention #1 while its timer runs',
  ).catch(async (error) => {
    throw new Failure(`${error.message}; props: ${JSON.stringify(await tray.props(item).catch((e) => e.message))}`);
  });
  log(`tray title: ${title}`);

  const stop = await tray.waitFor(
    async () => menuItems(await tray.menu(item)).find((n) => /stop/i.test(n.label) && n.enabled && n.visible),
    5_000,
    'an enabled Stop item in the tray menu',
  ).catch(async (error) => {
    const labels = menuItems(await tray.menu(item).catch(() => null)).map((n) => n.label);
    throw new Failure(`${error.message}; the menu has ${JSON.stringify(labels)}`);
  });
  log(`tray menu item: ${JSON.stringify(stop.label)}`);
  await tray.click('Stop', item);

  const stopped = await waitForEntry(
    `entry #${running.id} to stop after the tray's Stop`,
    (e) => e.id === running.id && !e.is_running,
    10_000,
  );
  log(`simulator entry: ${describeEntry(stopped)}`);
}

async function journeyOffline({ s, tray, trayItemsBefore }) {
  const item = await tray.waitFor(
    async () => (await tray.items()).find((i) => !trayItemsBefore.includes(i)),
    15_000,
    'the app to register its tray item',
  );
  const onTicket1 = (e) =>
    e.external_reference?.group_id === 'tickettime' && String(e.external_reference?.id) === '1' && Math.abs(Number(e.hours) - 0.75) < 1e-9;
  const before = (await simEntries()).filter(onTicket1).length;

  await openTicket(s, 1);
  await openLogTime(s, 'note'); // the tasks come (and are kept) while Harvest answers
  await s.type(sel('logtime-hours'), '0.75');
  await s.type(sel('entry-body'), `E2E offline note ${Date.now()}`);
  // Harvest goes down: every API call answers 503.
  await sim('POST', '/__sim/faults', { path_prefix: '/v2/', kind: 'status', status: 503, times: 100000 });
  await s.click(sel('submit-entry'));

  const waiting = await waitUntil(
    'the window to say the entry waits (outbox-status)',
    async () => {
      const text = (await s.page(`return visible(byTestId('outbox-status')) ? byTestId('outbox-status').textContent : '';`)) || '';
      return /1 entry waiting/.test(text) ? text.trim() : null;
    },
    { timeoutMs: 15_000 },
  );
  log(`window: ${waiting}`);
  // The list behind the counter shows the waiting entry (its command is allowed to the webview).
  await s.click(sel('outbox-status'));
  const listed = await waitUntil(
    'the outbox list to show the waiting 0.75 h entry',
    async () => {
      const text = (await s.page(`return visible(byTestId('outbox-item')) ? byTestId('outbox-item').textContent : '';`)) || '';
      return /0\.75/.test(text) ? text.replace(/\s+/g, ' ').trim() : null;
    },
    { timeoutMs: 10_000 },
  );
  log(`outbox list: ${listed}`);
  check(!(await s.page(`return visible(byTestId('error-banner'));`)), 'opening the outbox list shows no error');
  await s.click(`${sel('outbox-dialog')} button.x`);
  const title = await tray.waitFor(
    async () => {
      const t = trayTitle(await tray.props(item));
      return /1 entry waiting/.test(t) ? t : null;
    },
    10_000,
    'the tray title to say "1 entry waiting"',
  ).catch(async (error) => {
    throw new Failure(`${error.message}; props: ${JSON.stringify(await tray.props(item).catch((e) => e.message))}`);
  });
  log(`tray title: ${title}`);
  check((await simEntries()).filter(onTicket1).length === before, 'nothing reached Harvest while it was down');

  // Harvest is back: the entry goes out on its own, once.
  await sim('DELETE', '/__sim/faults');
  const arrived = await waitForEntry('the queued 0.75 h entry on #1 to arrive without any user action', onTicket1, 60_000);
  log(`simulator entry: ${describeEntry(arrived)}`);
  check(userOf(arrived) === PM_USER, `logged for user ${userOf(arrived)}, expected Pia (${PM_USER})`);
  await waitUntil(
    'the window to stop saying an entry waits',
    async () => !(await s.page(`return visible(byTestId('outbox-status'));`)),
    { timeoutMs: 15_000 },
  );
  await sleep(3_000); // a second delivery would have happened by now
  const copies = (await simEntries()).filter(onTicket1).length - before;
  check(copies === 1, `the entry reached Harvest ${copies} times, expected once`);
}

/** Settings → Theme in the real webview: Dark paints the dark palette at once
 *  (app.css's light-dark() pairs, as Vite compiles them), System goes back to
 *  the desktop's preference (light under Xvfb). */
async function journeyTheme({ s }) {
  const background = () => s.page(`return getComputedStyle(document.documentElement).backgroundColor;`);
  const light = await background();
  for (const [theme, expected] of [['dark', 'rgb(17, 20, 24)'], ['system', light]]) {
    await s.click(sel('settings-button'));
    const set = await s.select(sel('settings-theme'), theme);
    check(set === 'set' || set === 'already', `the theme select: ${set}`);
    await s.click(sel('settings-save'));
    const painted = await waitUntil(
      `the window to paint the ${theme} theme (${expected})`,
      async () => {
        const now = await background();
        return now === expected ? now : null;
      },
      { timeoutMs: 10_000 },
    );
    log(`${theme}: background ${painted}`);
  }
  check(light !== 'rgb(17, 20, 24)', `the desktop's (light) preference paints light, got ${light}`);
}

async function journeyDesks({ s }) {
  const textOf = (css) => s.page(`return Array.from(document.querySelectorAll(arguments[0])).map((e) => e.textContent).join('\\n');`, [css]);
  // The demo's Zendesk tickets are in the list, each with its desk number.
  await waitUntil('the demo Zendesk tickets in the list', async () => /Zendesk #\d+/.test(await textOf(sel('ticket-source'))), {
    timeoutMs: LIST_TIMEOUT_MS,
  });
  const before = (await textOf(sel('ticket-source'))).split('\n').filter((t) => t.startsWith('Zendesk')).length;

  await s.click(sel('settings-button'));
  await s.waitFor(sel('desk-row'), { what: 'the demo Zendesk in Settings → Help desks' });
  const row = await textOf(sel('desk-row'));
  check(/Demo Zendesk/.test(row) && /Zendesk · http:\/\/127\.0\.0\.1:\d+ · \d+ tickets/.test(row), `the desk row: ${row}`);

  // A desk that cannot be reached is one clear line where it was typed, and nothing is kept.
  await s.type(sel('desk-address'), 'http://127.0.0.1:9');
  await s.type(sel('desk-email'), 'pia@demo.test');
  await s.type(sel('desk-secret'), 'not-a-real-token');
  await s.click(sel('desk-add'));
  const problem = await waitUntil('the add to fail', async () => (await textOf(sel('desk-problem'))) || null, { timeoutMs: 20_000 });
  check(problem.includes('cannot reach Zendesk at http://127.0.0.1:9'), `the problem shown: ${problem}`);
  check(!problem.includes('not-a-real-token'), `no token in the error: ${problem}`);
  check((await s.page(`return document.querySelectorAll(arguments[0]).length;`, [sel('desk-row')])) === 1, 'still one desk');

  // Removing asks first, then the desk goes and its tickets stay.
  await s.click(sel('desk-remove'));
  await s.click(sel('confirm-yes'));
  await s.waitGone(sel('desk-row'), { what: 'the removed desk to leave the list' });
  const empty = await textOf(sel('help-desks'));
  check(empty.includes('No help desk yet'), `after removing: ${empty}`);
  await s.page(`document.querySelector('[data-testid="settings-save"]').closest('form').querySelector('button.btn:not(.primary)').click(); return true;`);
  await s.waitGone(sel('help-desks'), { what: 'Settings to close' });
  const after = (await textOf(sel('ticket-source'))).split('\n').filter((t) => t.startsWith('Zendesk')).length;
  check(after === before && after > 0, `the desk's ${before} tickets stay in the list (now ${after})`);
}

// ---------------------------------------------------------------------------
// The tray process: tickettime-tray alone, the window a process of its own

/** pid → {ppid, comm} for every process. */
function processes() {
  const all = new Map();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const ppid = Number(stat.slice(close + 2).split(' ')[1]);
      all.set(Number(name), { ppid, comm });
    } catch {
      // gone meanwhile
    }
  }
  return all;
}

/** `pid` and its descendants, with their PSS in KiB. */
function tree(pid) {
  const all = processes();
  const out = [];
  const walk = (p) => {
    const info = all.get(p);
    if (!info) return;
    let pss = 0;
    try {
      pss = Number(/^Pss:\s+(\d+)/m.exec(readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
    out.push({ pid: p, comm: info.comm, pss });
    for (const [child, c] of all) if (c.ppid === p) walk(child);
  };
  walk(pid);
  return out;
}

const describeTree = (t) => t.map((p) => `${p.comm}(${p.pid}) ${(p.pss / 1024).toFixed(1)} MiB`).join(', ');
const webkitIn = (t) => t.filter((p) => /WebKit/i.test(p.comm));

async function journeyTrayProcess({ bin, env, tray, trayItemsBefore, outDir }) {
  const trayBin = join(dirname(bin), 'tickettime-tray');
  if (!isExecutable(trayBin)) throw new Failure(`no tray binary beside the app: ${trayBin}`);
  const logFile = createWriteStream(join(outDir, 'tray-process.log'));
  const child = spawn(trayBin, ['--demo', '--hidden'], { env: { ...env, TICKETTIME_WINDOW_BIN: bin }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout.pipe(logFile);
  child.stderr.pipe(logFile);
  const exited = new Promise((done) => child.once('exit', (code, signal) => done(`exited (${code ?? signal})`)));
  try {
    const item = await tray.waitFor(
      async () => (await tray.items()).find((i) => !trayItemsBefore.includes(i)),
      15_000,
      'tickettime-tray to register its tray item',
    );
    log(`tray item: ${item}`);
    await tray.waitFor(async () => menuItems(await tray.menu(item)).some((n) => n.label.startsWith('#1 ')), 10_000, 'ticket #1 under Start on…');
    await sleep(2_000);
    const alone = tree(child.pid);
    log(`tray only: ${describeTree(alone)}`);
    if (alone.length !== 1 || webkitIn(alone).length) throw new Failure(`the tray alone should be one process: ${describeTree(alone)}`);

    for (const round of [1, 2]) {
      await tray.click('Open Tickettime', item);
      const open = await waitUntil(
        `round ${round}: the window process with its WebKit processes`,
        () => {
          const t = tree(child.pid);
          return webkitIn(t).length >= 2 ? t : null;
        },
        { timeoutMs: 30_000 },
      );
      // The page has painted when X knows a window titled Tickettime.
      await waitUntil(`round ${round}: a window titled Tickettime`, () => {
        const out = spawnSync('xwininfo', ['-root', '-children'], { encoding: 'utf8' }).stdout ?? '';
        return out.includes('"Tickettime"');
      }, { timeoutMs: 20_000 });
      log(`round ${round}, window open: ${describeTree(tree(child.pid))}`);
      // Closed as a window manager closes it: WM_DELETE_WINDOW.
      const closed = spawnSync('/usr/bin/python3', [resolve('tests/e2e/support/close_window.py'), 'Tickettime'], { encoding: 'utf8' });
      if (closed.status !== 0) throw new Failure(`closing the window: ${closed.stdout}${closed.stderr}`);
      const after = await waitUntil(
        `round ${round}: no process but the tray once the window closed`,
        () => {
          const t = tree(child.pid);
          return t.length === 1 ? t : null;
        },
        { timeoutMs: 20_000 },
      ).catch((error) => {
        throw new Failure(`${error.message}: ${describeTree(tree(child.pid))} (open was ${describeTree(open)})`);
      });
      log(`round ${round}, window closed: ${describeTree(after)}`);
    }

    // The timer from the tray, with no window: Start on #1, then Stop.
    await tray.click('#1 ', item);
    const running = await waitForEntry('a running entry on #1 started from the tray', (e) => e.is_running && e.external_reference?.id === '1', 15_000);
    log(`running entry: ${describeEntry(running)}`);
    const title = await tray.waitFor(async () => {
      const t = trayTitle(await tray.props(item));
      return t.includes('#1') ? t : null;
    }, 10_000, 'the tray title to show #1');
    log(`tray title: ${title}`);
    await tray.click('Stop', item);
    await waitForEntry(`entry #${running.id} to stop`, (e) => e.id === running.id && !e.is_running, 10_000);
    const still = tree(child.pid);
    if (still.length !== 1) throw new Failure(`the timer needed no window: ${describeTree(still)}`);
  } finally {
    child.kill('SIGTERM');
    await Promise.race([exited, sleep(5_000)]);
    for (const p of tree(child.pid)) {
      try {
        process.kill(p.pid, 'SIGKILL');
      } catch {
        // gone
      }
    }
  }
}

/** Input on the X server, as a person's (xdotool, through XTEST): the
 *  app's idle source sees the idle time drop. */
function xInput() {
  const done = spawnSync('xdotool', ['mousemove_relative', '--', '4', '4'], { encoding: 'utf8' });
  if (done.error || done.status !== 0) {
    throw new Failure(`xdotool could not move the pointer (is it installed?): ${done.error?.message ?? done.stderr}`);
  }
}

const IDLE_SECS = 3;

/** Away from a running timer: the X server sees no input for longer than
 *  the (shortened) idle threshold, then input again; the window asks what
 *  to do with the time, and "Stop at" ends the Harvest entry there. The
 *  one-process app also tells it as a notification. */
async function journeyIdle({ s, notifications }) {
  const before = notifications.all().length;
  await openTicket(s, 1);
  await openLogTime(s, 'reply');
  const running = await startTimer(s, 1);
  log(`running entry: ${describeEntry(running)}`);
  await sleep(1_500);
  xInput(); // the last input before the away (after the timer started)
  await sleep((IDLE_SECS + 3) * 1000);
  xInput(); // back
  await s.waitFor(sel('idle-prompt'), { timeoutMs: 10_000, what: 'the idle prompt after coming back from the away' });
  const text = await s.text(sel('idle-prompt'));
  log(`idle prompt: ${text.replace(/\s+/g, ' ').trim()}`);
  check(/away/i.test(text), `the prompt does not say the person was away: ${text}`);
  const notification = await notifications.waitFor((n) => /away/i.test(`${n.summary} ${n.body}`), {
    since: before,
    timeoutMs: 10_000,
    what: 'a notification about the away',
  });
  log(`notification: ${JSON.stringify(notification.summary)} / ${JSON.stringify(notification.body)}`);
  await s.click(sel('idle-stop'));
  await s.waitGone(sel('idle-prompt'), { timeoutMs: 10_000, what: 'the idle prompt to close after Stop at' });
  const stopped = await waitForEntry(`entry #${running.id} to stop where the away began`, (e) => e.id === running.id && !e.is_running);
  log(`simulator entry: ${describeEntry(stopped)}`);
}

/** The week timesheet after logging time: this week's label, seven bars,
 *  the total, and the arrow keys paging between weeks. */
async function journeyTimesheet({ s }) {
  await openTicket(s, 1);
  await openLogTime(s, 'note');
  await s.type(sel('logtime-hours'), '1.25');
  await s.type(sel('entry-body'), `E2E timesheet note ${Date.now()}`);
  await s.click(sel('submit-entry'));
  await waitForEntry('the 1.25 h entry on #1', (e) => Math.abs(Number(e.hours) - 1.25) < 1e-9 && projectOf(e) === PROJECT[1]);
  await s.click(sel('open-timesheet'));
  await s.waitFor(sel('timesheet-view'), { what: 'the timesheet view after clicking open-timesheet' });
  const week = await waitUntil(
    "this week's label",
    async (note) => {
      const label = (await s.text(sel('timesheet-week'))).trim();
      note(`timesheet-week: ${JSON.stringify(label)}`);
      return /\d{4}-W\d{2}/.test(label) ? label : null;
    },
    { timeoutMs: 10_000 },
  );
  const bars = (await s.all(sel('timesheet-bar'))).filter((b) => b.visible);
  check(bars.length === 7, `the chart has ${bars.length} bars, expected 7 (Monday to Sunday)`);
  const total = await waitUntil(
    'the week total to include the 1.25 h',
    async (note) => {
      const text = (await s.text(sel('timesheet-total'))).trim();
      note(`timesheet-total: ${JSON.stringify(text)}`);
      const hours = Number((text.match(/(\d+(?:[.,]\d+)?)/) ?? [])[1]?.replace(',', '.'));
      return hours >= 1.25 ? text : null;
    },
    { timeoutMs: 10_000 },
  );
  log(`week ${week}, total ${total}`);
  await s.keys(sel('timesheet-prev'), '\uE012'); // ← ArrowLeft
  const previous = await waitUntil(
    'ArrowLeft to page to the week before',
    async () => {
      const label = (await s.text(sel('timesheet-week'))).trim();
      return label && label !== week ? label : null;
    },
    { timeoutMs: 10_000 },
  );
  await s.keys(sel('timesheet-next'), '\uE014'); // → ArrowRight
  await waitUntil('ArrowRight to page back', async () => ((await s.text(sel('timesheet-week'))).trim() === week ? true : null), {
    timeoutMs: 10_000,
  });
  log(`paged ${week} → ${previous} → ${week}`);
  check(!(await s.page(`return visible(byTestId('error-banner'));`)), 'the timesheet shows no error');
}

const JOURNEYS = [
  { name: 'log', run: journeyLog, about: 'log 0.5 h from the Note tab' },
  { name: 'timer', run: journeyTimer, about: 'timer from the Log Time panel across tabs' },
  { name: 'over-budget', aliases: ['import', 'budget'], run: journeyOverBudget, about: 'over budget through a background import: badge, lock, notification' },
  { name: 'tray', run: journeyTray, about: 'tray title and Stop from the tray menu' },
  { name: 'tray-process', standalone: true, run: journeyTrayProcess, about: 'tickettime-tray alone: no WebKit until the window opens; open and close it twice; a timer from the tray' },
  { name: 'theme', run: journeyTheme, about: 'Settings → Theme: Dark paints dark, System follows the desktop' },
  { name: 'desks', run: journeyDesks, about: 'Settings → Help desks: the demo Zendesk, an unreachable one refused in one line, removed (its tickets stay)' },
  { name: 'offline', aliases: ['outbox'], run: journeyOffline, about: 'Harvest down: log 0.75 h, it waits (window, tray), then arrives once on its own' },
  {
    name: 'idle',
    env: { TICKETTIME_IDLE_SECS: String(IDLE_SECS) },
    run: journeyIdle,
    about: 'away from a running timer (X11 idle under Xvfb): the window asks, "Stop at" ends the entry there',
  },
  { name: 'timesheet', run: journeyTimesheet, about: 'the week timesheet: this week, seven bars, the total, arrow keys between weeks' },
];

// ---------------------------------------------------------------------------
// The runner

/** The message; the stack too for programming errors (a bug in this script). */
function describeError(error) {
  if (error instanceof TypeError || error instanceof ReferenceError || error instanceof SyntaxError) return error.stack;
  return error?.message ?? String(error);
}

function parseArgs(argv) {
  const options = { only: null, list: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (arg === '--list') options.list = true;
    else if (arg === '--only') options.only = (argv[++i] ?? '').split(',').filter(Boolean);
    else if (arg.startsWith('--only=')) options.only = arg.slice(7).split(',').filter(Boolean);
    else throw new Failure(`unknown argument ${arg} (--only NAME[,NAME], --list)`);
  }
  return options;
}

function selectJourneys(only) {
  if (!only) return JOURNEYS;
  return only.map((name) => {
    const journey = JOURNEYS.find((j) => j.name === name || j.aliases?.includes(name));
    if (!journey) throw new Failure(`no journey ${JSON.stringify(name)}; there are ${JOURNEYS.map((j) => j.name).join(', ')}`);
    return journey;
  });
}

function appBinary() {
  const bin =
    process.env.TICKETTIME_DESKTOP_BIN ||
    (process.env.CARGO_TARGET_DIR ? join(process.env.CARGO_TARGET_DIR, 'debug', 'tickettime-desktop') : '');
  if (!bin) throw new Failure('set TICKETTIME_DESKTOP_BIN (or CARGO_TARGET_DIR) to find the app binary');
  if (!isAbsolute(bin)) throw new Failure(`TICKETTIME_DESKTOP_BIN must be absolute, got ${bin}`);
  if (!isExecutable(bin)) throw new Failure(`the app binary is not an executable file: ${bin}`);
  return bin;
}

function appEnv(home, extra = {}) {
  const env = {
    ...process.env,
    ...extra,
    HOME: home,
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    NO_AT_BRIDGE: '1',
    TICKETTIME_DEMO_PORT: String(DEMO_PORT),
    TICKETTIME_SYNC_INTERVAL_SECS: String(SYNC_INTERVAL_SECS),
  };
  delete env.TICKETTIME_DB; // demo mode keeps its own throw-away database
  return env;
}

async function runJourney(journey, context) {
  const { bin, outDir, tray, notifications, state } = context;
  const home = mkdtempSync(join(tmpdir(), `tickettime-e2e-${journey.name}-`));
  let session = null;
  try {
    if (await simAnswers()) {
      throw new Failure(`something already answers on ${SIM_URL} before the app starts (a stale app?)`);
    }
    if (journey.standalone) {
      await journey.run({ bin, env: appEnv(home), tray, outDir, trayItemsBefore: await tray.items() });
      return;
    }
    state.driver = await startDriver({
      logFile: join(outDir, `${journey.name}-tauri-driver.log`),
      env: appEnv(home, journey.env),
      log,
    });
    const trayItemsBefore = await tray.items();
    const started = Date.now();
    state.sessionId = await newSession(bin, ['--demo']);
    session = new Session(state.sessionId, log);
    try {
      await session.waitFor(row(1), { timeoutMs: LIST_TIMEOUT_MS, what: 'ticket #1 in the ticket list (demo data)' });
    } catch (error) {
      const banner = await session.alertText();
      throw new Failure(`${error.message}${banner ? `; the page shows: ${banner}` : ''}`);
    }
    log(`${journey.name}: list shown ${((Date.now() - started) / 1000).toFixed(1)} s after the session request`);
    await waitUntil(`the simulator on ${SIM_URL} (TICKETTIME_DEMO_PORT)`, simAnswers, { timeoutMs: 5_000 });

    let timer;
    const timeout = new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Failure(`the journey took longer than ${JOURNEY_TIMEOUT_MS / 1000} s`)), JOURNEY_TIMEOUT_MS);
    });
    try {
      await Promise.race([journey.run({ s: session, tray, notifications, trayItemsBefore }), timeout]);
    } finally {
      clearTimeout(timer);
    }
  } catch (error) {
    if (session) {
      const banner = await session.alertText();
      if (banner && !error.message.includes(banner)) error.message += `; the page shows: ${banner}`;
    }
    throw error;
  } finally {
    if (session) await session.screenshot(join(outDir, `${journey.name}.png`)).catch((e) => log(`no screenshot: ${e.message}`));
    await cleanupApp(state);
    rmSync(home, { recursive: true, force: true });
  }
}

async function cleanupApp(state) {
  if (state.sessionId) {
    await deleteSession(state.sessionId, log); // closes the app
    state.sessionId = null;
  }
  await stopDriver(state.driver);
  state.driver = null;
  // The next app needs the simulator's port.
  const deadline = Date.now() + 10_000;
  while ((await simAnswers()) && Date.now() < deadline) await sleep(250);
}

async function main() {
  const options = parseArgs(process.argv.slice(2));
  if (options.list) {
    for (const j of JOURNEYS) console.log(`${j.name.padEnd(12)} ${j.about}`);
    return 0;
  }
  const journeys = selectJourneys(options.only);
  const bin = appBinary();
  const outDir = resolve(process.env.E2E_OUT || 'test-output/e2e');
  mkdirSync(outDir, { recursive: true });
  if (!process.env.DBUS_SESSION_BUS_ADDRESS || !process.env.DISPLAY) {
    throw new Failure('run inside dbus-run-session and xvfb-run (DBUS_SESSION_BUS_ADDRESS and DISPLAY must be set)');
  }
  log(`app: ${bin} --demo; simulator ${SIM_URL}; output ${outDir}`);

  const state = { driver: null, sessionId: null, helpers: [] };
  const stopAll = async () => {
    await cleanupApp(state).catch(() => {});
    for (const helper of state.helpers) await helper.stop().catch(() => {});
  };
  const interrupted = async (signal) => {
    log(`interrupted by ${signal}`);
    await stopAll();
    console.log(`0 passed, ${journeys.length} failed`);
    process.exit(1);
  };
  process.once('SIGINT', interrupted);
  process.once('SIGTERM', interrupted);

  // Both before the app: it looks for them when it starts.
  const notifications = await startNotifications({
    logFile: join(outDir, 'notifications.jsonl'),
    stderrFile: join(outDir, 'notifyd.log'),
  });
  state.helpers.push(notifications);
  const tray = await startTray({ stderrFile: join(outDir, 'sni_watcher.log') });
  state.helpers.push(tray);

  let passed = 0;
  let failed = 0;
  try {
    for (const journey of journeys) {
      log(`--- ${journey.name}: ${journey.about}`);
      try {
        await runJourney(journey, { bin, outDir, tray, notifications, state });
        console.log(`${journey.name}: ok`);
        passed++;
      } catch (error) {
        console.log(`${journey.name}: FAIL: ${describeError(error)}`);
        failed++;
      }
    }
  } finally {
    await stopAll();
  }
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

let code;
try {
  code = await main();
} catch (error) {
  console.error(`[journeys] ${describeError(error)}`);
  console.log('0 passed, 1 failed');
  code = 1;
}
// Exit explicitly: kept-alive sockets would otherwise hold the loop open.
process.exit(code);
