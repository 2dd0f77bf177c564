"""Poison records: every kind of bad record the review and the issue name, built from a valid event.

Each kind is something that made, or could make, a parser, Arrow, DuckDB or an encoder throw or crash: bytes that
are not UTF-8, escapes JSON forbids, literals JSON does not have, numbers and times no type holds, nesting deep
enough to overflow a recursive parser, fields of the wrong type or size, values that are not objects at all.
The analytics engine and the sinks each say which of them they refuse; their tests feed all of them.

Also here: records that look odd but are valid (a NUL escape, deep nesting or ``NaN`` in a field the query does
not read, a pretty-printed record), which must be delivered like any other.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(frozen=True)
class Poison:
    """One bad record: ``name`` says what is wrong, ``reason`` is a fragment of the reason it must be routed with."""

    name: str
    value: bytes | None
    reason: str


def _with(event: dict[str, Any], field: str, raw: bytes) -> bytes:
    """``event`` as JSON with ``field``'s value replaced by the raw bytes ``raw`` (which may be invalid JSON)."""
    marker = "\x01marker\x01"
    text = orjson.dumps({**event, field: marker})
    return text.replace(orjson.dumps(marker), raw)


def deep(depth: int) -> bytes:
    return b"[" * depth + b"]" * depth


def poisons(
    event: dict[str, Any], text_field: str, int_field: str | None, time_field: str, double_field: str | None = None
) -> list[Poison]:
    """Every kind of poison record, made from the valid ``event`` of a source with those columns (an integer and a
    floating-point one when it has them)."""
    found = [
        # Bytes that are not UTF-8, in a field the query reads and in one it does not.
        Poison("invalid UTF-8 (0xff 0xfe)", _with(event, text_field, b'"\xff\xfe"'), "UTF-8"),
        Poison("invalid UTF-8 in an unread field", _with(event, "unread", b'"ok\xff"'), "UTF-8"),
        Poison("surrogate as raw bytes (CESU-8)", _with(event, text_field, b'"\xed\xa0\x80"'), "UTF-8"),
        Poison("truncated multi-byte sequence", _with(event, text_field, b'"ab\xc3"'), "UTF-8"),
        Poison("lone surrogate escape", _with(event, text_field, b'"\\ud800"'), "malformed record"),
        Poison("lone low surrogate escape", _with(event, text_field, b'"x\\udc00y"'), "malformed record"),
        # Times out of every range.
        Poison("event time in year 0", _with(event, time_field, b'"0000-01-01T00:00:00Z"'), "out of range"),
        Poison("event time after year 9999", _with(event, time_field, b'"+10000-01-01T00:00:00Z"'), "malformed"),
        Poison("event time not a time", _with(event, time_field, b'"yesterday"'), "malformed record"),
        Poison("event time a number", _with(event, time_field, b"1800000000000"), "malformed record"),
        Poison("event time null", _with(event, time_field, b"null"), "missing"),
        # Wrong types and shapes.
        Poison("number in a text field", _with(event, text_field, b"42"), "malformed record"),
        Poison("object in a text field", _with(event, text_field, b'{"a": 1}'), "malformed record"),
        Poison("nested 50,000 deep in a text field", _with(event, text_field, deep(50_000)), "malformed record"),
        Poison("unclosed nesting", _with(event, text_field, b"[" * 50_000), "malformed record"),
        Poison("oversized field", _with(event, text_field, orjson.dumps("x" * 200_000)), "oversized record"),
        Poison("duplicate field", _with(event, text_field, b'"a", "' + text_field.encode() + b'": "b"'), "malformed"),
        # Not one JSON object.
        Poison("a JSON array", b"[1, 2, 3]", "malformed record"),
        Poison("a JSON string", b'"just text"', "malformed record"),
        Poison("a JSON number", b"42", "malformed record"),
        Poison("JSON null", b"null", "malformed record"),
        Poison("empty", b"", "malformed record"),
        Poison("only spaces", b"   ", "malformed record"),
        Poison("a null Kafka value", None, "malformed record"),
        Poison("truncated JSON", orjson.dumps(event)[:-9], "malformed record"),
        Poison("two objects in one record", orjson.dumps(event) + orjson.dumps(event), "malformed record"),
        Poison("trailing garbage", orjson.dumps(event) + b" garbage", "malformed record"),
        Poison("raw NUL byte in a string", _with(event, text_field, b'"a\x00b"'), "malformed record"),
        Poison("raw tab in a string", _with(event, text_field, b'"a\tb"'), "malformed record"),
        Poison("single quotes", orjson.dumps(event).replace(b'"', b"'"), "malformed record"),
    ]
    if int_field is not None:
        found += [
            Poison("integer beyond int64", _with(event, int_field, b"9223372036854775808"), "malformed record"),
            Poison("integer of 30 digits", _with(event, int_field, b"123456789012345678901234567890"), "malformed"),
            Poison("number beyond double", _with(event, int_field, b"1e400"), "malformed record"),
            Poison("NaN in an integer field", _with(event, int_field, b"NaN"), "malformed record"),
            Poison("fraction in an integer field", _with(event, int_field, b"1.5"), "malformed record"),
            Poison("text in an integer field", _with(event, int_field, b'"many"'), "malformed record"),
        ]
    if double_field is not None:
        found += [
            Poison("NaN in a number field", _with(event, double_field, b"NaN"), "NaN or Infinity"),
            Poison("Infinity in a number field", _with(event, double_field, b"Infinity"), "NaN or Infinity"),
            Poison("-Infinity in a number field", _with(event, double_field, b"-Infinity"), "NaN or Infinity"),
        ]
    return found


def oddities(event: dict[str, Any]) -> list[tuple[str, bytes]]:
    """Valid records that look odd, each carrying exactly ``event``'s fields and values plus what makes it odd."""
    return [
        ("nested 50,000 deep in an unread field", _with(event, "unread", deep(50_000))),
        ("NaN in an unread field", _with(event, "unread", b"NaN")),
        ("integer of 30 digits in an unread field", _with(event, "unread", b"123456789012345678901234567890")),
        ("pretty-printed over several lines", orjson.dumps(event, option=orjson.OPT_INDENT_2)),
        ("spaces around", b"  " + orjson.dumps(event) + b"  "),
    ]
