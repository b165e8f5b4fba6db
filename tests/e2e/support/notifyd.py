#!/usr/bin/python3
"""A minimal org.freedesktop.Notifications server for end-to-end tests.

Run it with Debian's /usr/bin/python3 (python3-dbus, python3-gi) on the test's
private session bus (inside `dbus-run-session`):

    /usr/bin/python3 tests/e2e/support/notifyd.py --log /tmp/notifications.jsonl

- Prints "ready" on stdout once it owns org.freedesktop.Notifications.
- Appends every Notify call to --log as one JSON line (flushed per line):
  {"id", "app_name", "replaces_id", "app_icon", "summary", "body", "actions",
   "hints", "expire_timeout", "at" (Unix seconds, float), "at_iso"}.
  `actions` is the flat list the caller sent ([key, label, key, label, ...]);
  `hints` are plain JSON values (byte arrays such as image-data are summarised).
- Advertises the "body-markup" capability, so callers must escape <, > and &.
- For every line "ID KEY" appended to `--log PATH` + ".actions" (polled every
  200 ms) emits ActionInvoked(ID, KEY), then NotificationClosed(ID, 2) as
  desktop servers do once an action ran (the Approve/Deny buttons).
- Exits cleanly on SIGTERM or SIGINT.
"""

import argparse
import datetime
import json
import os
import signal
import sys
import time

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

from dbusplain import plain

BUS_NAME = "org.freedesktop.Notifications"
OBJECT_PATH = "/org/freedesktop/Notifications"
IFACE = "org.freedesktop.Notifications"
CAPABILITIES = ["body", "actions", "body-markup"]
# NotificationClosed reasons (Desktop Notifications spec).
CLOSED_EXPIRED, CLOSED_DISMISSED, CLOSED_BY_CALL = 1, 2, 3




def plain_hints(hints):
    out = {}
    for key, value in hints.items():
        key = str(key)
        if key in ("image-data", "image_data", "icon_data"):
            # (width, height, rowstride, has_alpha, bits, channels, data)
            try:
                out[key] = {"width": int(value[0]), "height": int(value[1]), "bytes": len(value[6])}
            except Exception:  # noqa: BLE001 - keep whatever we can
                out[key] = repr(value)[:200]
        else:
            out[key] = plain(value, longest=64)
    return out


class Server(dbus.service.Object):
    def __init__(self, bus, log_path):
        super().__init__(bus, OBJECT_PATH)
        self.next_id = 1
        self.open = set()
        self.log_file = open(log_path, "a", encoding="utf-8") if log_path else None

    def record(self, entry):
        line = json.dumps(entry, ensure_ascii=False)
        if self.log_file:
            self.log_file.write(line + "\n")
            self.log_file.flush()
        print("notify: " + line, file=sys.stderr, flush=True)

    @dbus.service.method(IFACE, in_signature="", out_signature="as")
    def GetCapabilities(self):
        return dbus.Array(CAPABILITIES, signature="s")

    @dbus.service.method(IFACE, in_signature="", out_signature="ssss")
    def GetServerInformation(self):
        return ("tickettime-test-notifyd", "tickettime", "1.0", "1.2")

    @dbus.service.method(IFACE, in_signature="susssasa{sv}i", out_signature="u")
    def Notify(self, app_name, replaces_id, app_icon, summary, body, actions, hints, expire_timeout):
        replaces_id = int(replaces_id)
        if replaces_id and replaces_id in self.open:
            nid = replaces_id
        else:
            nid = self.next_id
            self.next_id += 1
        self.open.add(nid)
        now = time.time()
        self.record(
            {
                "id": nid,
                "app_name": str(app_name),
                "replaces_id": replaces_id,
                "app_icon": str(app_icon),
                "summary": str(summary),
                "body": str(body),
                "actions": [str(a) for a in actions],
                "hints": plain_hints(hints),
                "expire_timeout": int(expire_timeout),
                "at": now,
                "at_iso": datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat(),
            }
        )
        return dbus.UInt32(nid)

    @dbus.service.method(IFACE, in_signature="u", out_signature="")
    def CloseNotification(self, nid):
        nid = int(nid)
        print(f"close: {nid}", file=sys.stderr, flush=True)
        if nid in self.open:
            self.open.discard(nid)
            self.NotificationClosed(dbus.UInt32(nid), dbus.UInt32(CLOSED_BY_CALL))

    @dbus.service.signal(IFACE, signature="uu")
    def NotificationClosed(self, nid, reason):
        pass

    @dbus.service.signal(IFACE, signature="us")
    def ActionInvoked(self, nid, action_key):
        pass

    def invoke(self, nid, key):
        print(f"action: {nid} {key}", file=sys.stderr, flush=True)
        self.ActionInvoked(dbus.UInt32(nid), key)
        # Desktop servers close a notification once one of its actions ran.
        if nid in self.open:
            self.open.discard(nid)
            self.NotificationClosed(dbus.UInt32(nid), dbus.UInt32(CLOSED_DISMISSED))


class ActionFeed:
    """Reads new "ID KEY" lines appended to PATH.actions."""

    def __init__(self, path, server):
        self.path = path
        self.server = server
        self.offset = 0
        self.partial = ""

    def poll(self):
        try:
            with open(self.path, "r", encoding="utf-8") as f:
                f.seek(self.offset)
                data = f.read()
                self.offset = f.tell()
        except FileNotFoundError:
            return True
        data = self.partial + data
        lines = data.split("\n")
        self.partial = lines.pop()  # an unterminated last line waits for its newline
        for line in lines:
            parts = line.strip().split(None, 1)
            if len(parts) != 2 or not parts[0].isdigit():
                if line.strip():
                    print(f"actions: ignoring {line!r} (want 'ID KEY')", file=sys.stderr, flush=True)
                continue
            self.server.invoke(int(parts[0]), parts[1].strip())
        return True


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--log", help="append each notification as a JSON line here")
    args = parser.parse_args()

    DBusGMainLoop(set_as_default=True)
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        print("notifyd: DBUS_SESSION_BUS_ADDRESS is not set (run inside dbus-run-session)", file=sys.stderr)
        return 2
    bus = dbus.SessionBus()
    loop = GLib.MainLoop()
    server = Server(bus, args.log)
    reply = bus.request_name(BUS_NAME, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
    if reply not in (dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER, dbus.bus.REQUEST_NAME_REPLY_ALREADY_OWNER):
        print(f"notifyd: cannot own {BUS_NAME} (another notification server runs on this bus)", file=sys.stderr)
        return 1
    if args.log:
        feed = ActionFeed(args.log + ".actions", server)
        GLib.timeout_add(200, feed.poll)
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, lambda *_: (loop.quit(), False)[1])
    print("ready", flush=True)
    loop.run()
    if server.log_file:
        server.log_file.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
