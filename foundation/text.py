"""Whether a record's bytes are text: the first check of every record the engine and the sinks decode."""

from __future__ import annotations


def utf8_problem(data: bytes | bytearray) -> str | None:
    """Why ``data`` is not UTF-8 text, or None when it is. ASCII (most records) is recognised at memory speed."""
    if data.isascii():
        return None
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as exc:
        return f"not valid UTF-8 (byte 0x{data[exc.start]:02x} at position {exc.start})"
    return None
