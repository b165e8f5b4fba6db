"""dbus-python values as JSON-able ones, for the test helpers' logs."""

import dbus


def plain(value, depth=0, longest=None):
    """A dbus-python value as a JSON-able one: byte arrays (pixmaps) as their
    length, lists longer than `longest` as their length."""
    if depth > 10:
        return repr(value)
    if isinstance(value, dbus.Boolean):
        return bool(value)
    if isinstance(value, (dbus.Byte, dbus.Int16, dbus.Int32, dbus.Int64, dbus.UInt16, dbus.UInt32, dbus.UInt64)):
        return int(value)
    if isinstance(value, dbus.Double):
        return float(value)
    if isinstance(value, (dbus.ObjectPath, dbus.Signature, dbus.String, str)):
        return str(value)
    if isinstance(value, (dbus.ByteArray, bytes, bytearray)):
        return {"bytes": len(value)}
    if isinstance(value, dbus.Array) and value.signature == "y":
        return {"bytes": len(value)}
    if isinstance(value, dict):
        return {str(plain(k, depth + 1, longest)): plain(v, depth + 1, longest) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        if longest is not None and len(value) > longest:
            return {"items": len(value)}
        return [plain(v, depth + 1, longest) for v in value]
    if isinstance(value, (bool, int, float)):
        return value
    return repr(value)
