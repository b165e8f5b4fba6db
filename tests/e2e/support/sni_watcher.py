#!/usr/bin/python3
"""A StatusNotifierWatcher (the tray host's registry) for end-to-end tests.

Run it with Debian's /usr/bin/python3 (python3-dbus, python3-gi) on the test's
private session bus (inside `dbus-run-session`), before the app starts:

    /usr/bin/python3 tests/e2e/support/sni_watcher.py

It owns org.kde.StatusNotifierWatcher at /StatusNotifierWatcher (the name
libayatana-appindicator, and so Tauri's tray, registers with), and with
--freedesktop also org.freedesktop.StatusNotifierWatcher (same object, both
interfaces). It says a host is registered, so tray items show up as items
(not as the XEmbed fallback).

Control protocol: one command per line on stdin, one JSON line per answer on
stdout: {"ok": true, "result": ...} or {"ok": false, "error": "..."}.
The first line printed is "ready" (once the name is owned).

  items          -> ["<bus name><object path>", ...] registered items
  props [N|ITEM] -> all org.kde.StatusNotifierItem properties of item N
                    (default 0: the first), as JSON. The tray title set by
                    Tauri's set_title is ayatana's `XAyatanaLabel`.
  menu [N|ITEM]  -> the item's dbusmenu as a tree {id, label, enabled,
                    visible, type, toggle_state, children}
  click LABEL    -> clicks (dbusmenu Event "clicked") the first menu item of
                    item 0 whose label (mnemonic underscores removed)
                    contains LABEL, case-insensitively: result "ok"
  clickon N|ITEM LABEL -> the same on another item
  (N: a position in `items`; ITEM: an entry of `items`)
  quit           -> exits (SIGTERM does too)

Closing stdin only stops the control channel; the watcher keeps serving until
SIGTERM, `quit`, or the bus going away.

Events (items registering or leaving) are logged on stderr.
"""

import json
import os
import signal
import sys

import dbus
import dbus.service
from dbus.mainloop.glib import DBusGMainLoop
from gi.repository import GLib

from dbusplain import plain

WATCHER_PATH = "/StatusNotifierWatcher"
KDE = "org.kde.StatusNotifierWatcher"
FDO = "org.freedesktop.StatusNotifierWatcher"
ITEM_IFACE = "org.kde.StatusNotifierItem"
MENU_IFACE = "com.canonical.dbusmenu"
PROPS_IFACE = "org.freedesktop.DBus.Properties"
CALL_TIMEOUT = 5  # seconds


def log(message):
    print(f"sni_watcher: {message}", file=sys.stderr, flush=True)




def split_item(item):
    """"<bus name><path>" -> (bus name, path)."""
    slash = item.find("/")
    if slash < 0:
        return item, "/StatusNotifierItem"
    return item[:slash], item[slash:]


class Watcher(dbus.service.Object):
    def __init__(self, bus, interfaces):
        super().__init__(bus, WATCHER_PATH)
        self.bus = bus
        self.interfaces = interfaces
        self.items = []  # "<bus name><path>"
        self.hosts = []
        bus.add_signal_receiver(
            self._owner_changed,
            signal_name="NameOwnerChanged",
            dbus_interface="org.freedesktop.DBus",
            path="/org/freedesktop/DBus",
        )

    # --- the watcher interface (org.kde.*; org.freedesktop.* mirrors it) ---

    def _register_item(self, service, sender):
        service = str(service)
        if service.startswith("/"):
            # ayatana passes its object path; the bus name is the caller's.
            item = f"{sender}{service}"
        else:
            # A bus name (well-known or unique): the item sits at the default path.
            name, path = split_item(service)
            if name.startswith(":") or "." in name:
                try:
                    owner = self.bus.get_name_owner(name)
                except dbus.DBusException:
                    owner = sender
            else:
                owner = sender
            item = f"{owner}{path}"
        if item not in self.items:
            self.items.append(item)
            log(f"item registered: {item} (argument {service!r}, sender {sender})")
            for iface in self.interfaces:
                self._emit(iface, "StatusNotifierItemRegistered", item)
        else:
            log(f"item registered again: {item}")

    def _register_host(self, service, sender):
        host = str(service)
        if host not in self.hosts:
            self.hosts.append(host)
            for iface in self.interfaces:
                self._emit(iface, "StatusNotifierHostRegistered")

    @dbus.service.method(KDE, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierItem(self, service, sender=None):
        self._register_item(service, sender)

    @dbus.service.method(KDE, in_signature="s", out_signature="", sender_keyword="sender")
    def RegisterStatusNotifierHost(self, service, sender=None):
        self._register_host(service, sender)

    @dbus.service.signal(KDE, signature="s")
    def StatusNotifierItemRegistered(self, item):
        pass

    @dbus.service.signal(KDE, signature="s")
    def StatusNotifierItemUnregistered(self, item):
        pass

    @dbus.service.signal(KDE, signature="")
    def StatusNotifierHostRegistered(self):
        pass

    @dbus.service.signal(KDE, signature="")
    def StatusNotifierHostUnregistered(self):
        pass

    # The freedesktop spelling of the same interface: dbus-python exports a
    # method under its function's __name__, so rename the copies.
    def _fdo_register_item(self, service, sender=None):
        self._register_item(service, sender)

    def _fdo_register_host(self, service, sender=None):
        self._register_host(service, sender)

    _fdo_register_item.__name__ = "RegisterStatusNotifierItem"
    _fdo_register_host.__name__ = "RegisterStatusNotifierHost"
    _fdo_register_item = dbus.service.method(FDO, in_signature="s", out_signature="", sender_keyword="sender")(
        _fdo_register_item
    )
    _fdo_register_host = dbus.service.method(FDO, in_signature="s", out_signature="", sender_keyword="sender")(
        _fdo_register_host
    )

    def _emit(self, iface, name, *args):
        message = dbus.lowlevel.SignalMessage(WATCHER_PATH, iface, name)
        if args:
            message.append(*args, signature="s" * len(args))
        self.bus.send_message(message)

    def _props(self):
        return {
            "RegisteredStatusNotifierItems": dbus.Array(self.items, signature="s"),
            "IsStatusNotifierHostRegistered": dbus.Boolean(True),
            "ProtocolVersion": dbus.Int32(0),
        }

    @dbus.service.method(PROPS_IFACE, in_signature="ss", out_signature="v")
    def Get(self, interface, prop):
        props = self._props()
        if str(interface) not in (KDE, FDO) or str(prop) not in props:
            raise dbus.DBusException(
                f"no property {prop} on {interface}", name="org.freedesktop.DBus.Error.UnknownProperty"
            )
        return props[str(prop)]

    @dbus.service.method(PROPS_IFACE, in_signature="s", out_signature="a{sv}")
    def GetAll(self, interface):
        if str(interface) not in (KDE, FDO, ""):
            return dbus.Dictionary({}, signature="sv")
        return dbus.Dictionary(self._props(), signature="sv")

    @dbus.service.method(PROPS_IFACE, in_signature="ssv", out_signature="")
    def Set(self, interface, prop, value):
        raise dbus.DBusException("read-only", name="org.freedesktop.DBus.Error.PropertyReadOnly")

    @dbus.service.signal(PROPS_IFACE, signature="sa{sv}as")
    def PropertiesChanged(self, interface, changed, invalidated):
        pass

    def _owner_changed(self, name, old, new):
        if new:
            return
        gone = [i for i in self.items if split_item(i)[0] in (name, old)]
        for item in gone:
            self.items.remove(item)
            log(f"item unregistered: {item}")
            for iface in self.interfaces:
                self._emit(iface, "StatusNotifierItemUnregistered", item)

    # --- test control ---

    def item(self, index):
        """`index`: a position in the registration list, or an item string."""
        if not self.items:
            raise LookupError("no tray item is registered")
        if isinstance(index, str):
            if index not in self.items:
                raise LookupError(f"item {index} is not registered (registered: {self.items})")
            return split_item(index)
        if index >= len(self.items):
            raise LookupError(f"no item {index}: {len(self.items)} registered")
        return split_item(self.items[index])

    def item_props(self, index):
        name, path = self.item(index)
        obj = self.bus.get_object(name, path, introspect=False)
        props = obj.GetAll(ITEM_IFACE, dbus_interface=PROPS_IFACE, timeout=CALL_TIMEOUT)
        out = plain(props)
        out["_item"] = f"{name}{path}"
        return out

    def menu_target(self, index):
        name, path = self.item(index)
        obj = self.bus.get_object(name, path, introspect=False)
        menu_path = obj.Get(ITEM_IFACE, "Menu", dbus_interface=PROPS_IFACE, timeout=CALL_TIMEOUT)
        if not menu_path or str(menu_path) == "/":
            raise LookupError(f"item {name}{path} has no Menu")
        return self.bus.get_object(name, str(menu_path), introspect=False)

    def menu(self, index):
        menu = self.menu_target(index)
        _revision, layout = menu.GetLayout(
            0, -1, dbus.Array([], signature="s"), dbus_interface=MENU_IFACE, timeout=CALL_TIMEOUT
        )
        return node(layout)

    def click(self, label, index=0):
        menu = self.menu_target(index)
        _revision, layout = menu.GetLayout(
            0, -1, dbus.Array([], signature="s"), dbus_interface=MENU_IFACE, timeout=CALL_TIMEOUT
        )
        tree = node(layout)
        found = find(tree, label)
        if found is None:
            labels = [n["label"] for n in walk(tree) if n["label"]]
            raise LookupError(f"no menu item contains {label!r}; the menu has {labels}")
        if not found["enabled"]:
            raise LookupError(f"menu item {found['label']!r} is disabled")
        # Some dbusmenu servers only act on items they were asked to show first.
        try:
            menu.AboutToShow(0, dbus_interface=MENU_IFACE, timeout=CALL_TIMEOUT)
        except dbus.DBusException:
            pass
        menu.Event(
            dbus.Int32(found["id"]),
            "clicked",
            dbus.Int32(0, variant_level=1),
            dbus.UInt32(0),
            dbus_interface=MENU_IFACE,
            timeout=CALL_TIMEOUT,
        )
        log(f"clicked menu item {found['id']} {found['label']!r}")
        return "ok"


def node(layout):
    """A dbusmenu layout (ia{sv}av) as {id, label, enabled, ..., children}."""
    ident, props, children = layout
    props = plain(props)
    return {
        "id": int(ident),
        "label": str(props.get("label", "")).replace("_", "") if props.get("label") is not None else "",
        "enabled": bool(props.get("enabled", True)),
        "visible": bool(props.get("visible", True)),
        "type": props.get("type", "standard"),
        "toggle_state": props.get("toggle-state"),
        "children": [node(child) for child in children],
    }


def walk(tree):
    yield tree
    for child in tree["children"]:
        yield from walk(child)


def find(tree, label):
    want = label.lower()
    for n in walk(tree):
        if n["id"] != 0 and n["type"] != "separator" and want in n["label"].lower():
            return n
    return None


def main():
    freedesktop = "--freedesktop" in sys.argv[1:]
    DBusGMainLoop(set_as_default=True)
    if not os.environ.get("DBUS_SESSION_BUS_ADDRESS"):
        log("DBUS_SESSION_BUS_ADDRESS is not set (run inside dbus-run-session)")
        return 2
    bus = dbus.SessionBus()
    loop = GLib.MainLoop()
    names = [KDE] + ([FDO] if freedesktop else [])
    watcher = Watcher(bus, names)
    for name in names:
        reply = bus.request_name(name, dbus.bus.NAME_FLAG_DO_NOT_QUEUE)
        if reply not in (dbus.bus.REQUEST_NAME_REPLY_PRIMARY_OWNER, dbus.bus.REQUEST_NAME_REPLY_ALREADY_OWNER):
            log(f"cannot own {name} (another tray host runs on this bus)")
            return 1

    def selector(text):
        text = text.strip()
        return int(text) if text.isdigit() else (text or 0)

    def answer(payload):
        sys.stdout.write(json.dumps(payload, ensure_ascii=False) + "\n")
        sys.stdout.flush()

    def on_command(line):
        words = line.strip().split(None, 1)
        if not words:
            return
        command, rest = words[0], (words[1] if len(words) > 1 else "")
        try:
            if command == "items":
                result = list(watcher.items)
            elif command == "props":
                result = watcher.item_props(selector(rest))
            elif command == "menu":
                result = watcher.menu(selector(rest))
            elif command == "click":
                if not rest:
                    raise ValueError("usage: click LABEL")
                result = watcher.click(rest)
            elif command == "clickon":
                parts = rest.split(None, 1)
                if len(parts) != 2:
                    raise ValueError("usage: clickon N|ITEM LABEL")
                result = watcher.click(parts[1], selector(parts[0]))
            elif command == "quit":
                answer({"ok": True, "result": "bye"})
                loop.quit()
                return
            else:
                raise ValueError(f"unknown command {command!r} (items, props, menu, click LABEL, quit)")
            answer({"ok": True, "result": result})
        except (dbus.DBusException, LookupError, ValueError) as error:
            answer({"ok": False, "error": f"{type(error).__name__}: {error}"})

    buffer = [""]

    def on_stdin(fd, condition):
        if condition & (GLib.IO_HUP | GLib.IO_ERR) and not condition & GLib.IO_IN:
            return False
        data = os.read(fd, 65536)
        if not data:
            # stdin closed: stop reading it, keep serving (the bus going away,
            # when dbus-run-session ends, ends this process).
            return False
        buffer[0] += data.decode("utf-8", "replace")
        while "\n" in buffer[0]:
            line, buffer[0] = buffer[0].split("\n", 1)
            on_command(line)
        return True

    GLib.io_add_watch(sys.stdin.fileno(), GLib.IO_IN | GLib.IO_HUP | GLib.IO_ERR, on_stdin)
    for sig in (signal.SIGTERM, signal.SIGINT):
        GLib.unix_signal_add(GLib.PRIORITY_HIGH, sig, lambda *_: (loop.quit(), False)[1])
    print("ready", flush=True)
    loop.run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
