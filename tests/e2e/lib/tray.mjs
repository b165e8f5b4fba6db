// Test-side handle on tests/e2e/support/sni_watcher.py: a StatusNotifierWatcher
// on the private session bus that sees the app's tray item (libayatana-
// appindicator registers with org.kde.StatusNotifierWatcher), reads its
// properties and menu, and clicks menu items.
//
//   const tray = await startTray({ stderrFile });
//   await tray.waitFor(async () => (await tray.items()).length > 0, 15_000, 'the tray item');
//   (await tray.props()).XAyatanaLabel   // the title Tauri's set_title shows
//   await tray.click('Stop');
//   await tray.stop();
//
// Start it before the app (inside the same dbus-run-session): an item only
// registers with a watcher that exists when the tray is created.

import { setTimeout as sleep } from 'node:timers/promises';

import { HelperProcess } from './helper-process.mjs';

export async function startTray({ stderrFile, readyTimeoutMs = 10_000, freedesktop = true } = {}) {
  const helper = new HelperProcess('sni_watcher.py', freedesktop ? ['--freedesktop'] : [], {
    stderrFile,
    name: 'sni_watcher',
  });
  try {
    await helper.waitReady(readyTimeoutMs);
  } catch (error) {
    await helper.stop();
    throw error;
  }

  // One command at a time: answers come back in order, one JSON line each.
  let queue = Promise.resolve();
  function command(line, timeoutMs = 10_000) {
    const run = queue.then(async () => {
      helper.send(line);
      const answer = JSON.parse(await helper.nextLine(timeoutMs, `an answer to ${JSON.stringify(line)}`));
      if (!answer.ok) throw new Error(`tray ${line}: ${answer.error}`);
      return answer.result;
    });
    queue = run.catch(() => {});
    return run;
  }

  const target = (item) => (item === undefined || item === null ? '' : ` ${item}`);

  return {
    /** Registered items: ["<bus name><object path>", ...], oldest first. */
    items: () => command('items'),
    /** All org.kde.StatusNotifierItem properties of an item (index or item string; default the first). */
    props: (item) => command(`props${target(item)}`),
    /** The item's dbusmenu tree: {id, label, enabled, visible, type, toggle_state, children}. */
    menu: (item) => command(`menu${target(item)}`),
    /** Clicks the first menu item whose label contains `label` (case-insensitive). */
    click: (label, item) => command(item === undefined ? `click ${label}` : `clickon ${item} ${label}`),
    /** Polls `predicate` (may be async; errors count as "not yet") until truthy; returns its value. */
    async waitFor(predicate, timeoutMs = 10_000, what = 'the tray condition') {
      const deadline = Date.now() + timeoutMs;
      let last = '';
      for (;;) {
        try {
          const value = await predicate();
          if (value) return value;
        } catch (error) {
          last = error.message;
        }
        if (!helper.alive) throw new Error(`sni_watcher exited while waiting for ${what}`);
        if (Date.now() >= deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? ` (last: ${last})` : ''}`);
        await sleep(250);
      }
    },
    stop: () => helper.stop(),
    helper,
  };
}

/** The text a tray item shows as its title: ayatana's label, else Title, else the tooltip's title. */
export function trayTitle(props) {
  if (!props) return '';
  const tooltip = Array.isArray(props.ToolTip) ? `${props.ToolTip[2] ?? ''} ${props.ToolTip[3] ?? ''}` : '';
  return [props.XAyatanaLabel, props.Title, tooltip].filter(Boolean).join(' | ');
}

/** Every node of a menu tree, depth first. */
export function menuItems(tree) {
  const out = [];
  const walk = (node) => {
    if (node.id !== 0) out.push(node);
    for (const child of node.children ?? []) walk(child);
  };
  if (tree) walk(tree);
  return out;
}
