"""Firehose's S3 prefix language: ``!{timestamp:…}``, ``!{firehose:…}`` and ``!{partitionKeyFromQuery:…}``.

Pure functions, no I/O. The rules follow Firehose's "Custom Prefixes for Amazon S3 Objects":

- ``!{timestamp:<Java DateTimeFormatter pattern>}`` evaluates in UTC; text in single quotes is literal; every
  timestamp of one prefix evaluates to the same instant.
- a ``Prefix`` without any timestamp expression gets ``yyyy/MM/dd/HH/`` appended (after a ``/`` if it lacks one).
- ``ErrorOutputPrefix`` may be omitted only when ``Prefix`` has no expressions; it then evaluates to
  ``<prefix>/<error-output-type>/yyyy/MM/dd/HH/``. An error prefix with expressions must contain
  ``!{firehose:error-output-type}``; ``Prefix`` must not.
- ``!{`` may only open an expression; an evaluated prefix is at most 512 characters.

One deliberate difference: ``!{firehose:random-string}`` is not random here. It is derived from the object's
(topic, partition, first offset), because a replay after a crash must rewrite the very same key.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sinks.exceptions import PrefixError

MAX_EVALUATED_LENGTH = 512
DEFAULT_TIME_PATTERN = "yyyy/MM/dd/HH/"
_FIELD_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,127}$")
#: A partition-key value must stay one path segment: no separators, no dot-only names, no control characters.
_SAFE_VALUE_RE = re.compile(r"^[A-Za-z0-9 _.:=+@,-]{1,256}$")

_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
           "November", "December"]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]


@dataclass(frozen=True)
class _Field:
    letter: str
    count: int


_DatePart = str | _Field


def parse_date_pattern(pattern: str) -> tuple[_DatePart, ...]:
    """Split a Java ``DateTimeFormatter`` pattern into literal text and fields (the letters we support)."""
    parts: list[_DatePart] = []
    i = 0
    while i < len(pattern):
        ch = pattern[i]
        if ch == "'":
            end = i + 1
            text = []
            while True:
                if end >= len(pattern):
                    raise PrefixError(f"unterminated quote in timestamp pattern {pattern!r}")
                if pattern[end] == "'":
                    if end + 1 < len(pattern) and pattern[end + 1] == "'":
                        text.append("'")
                        end += 2
                        continue
                    break
                text.append(pattern[end])
                end += 1
            parts.append("".join(text) if text or end > i + 1 else "'")
            i = end + 1
        elif ch.isalpha():
            end = i
            while end < len(pattern) and pattern[end] == ch:
                end += 1
            count = end - i
            _check_field(ch, count, pattern)
            parts.append(_Field(ch, count))
            i = end
        elif ch in "[]{}#":
            raise PrefixError(f"character {ch!r} is reserved in timestamp pattern {pattern!r}")
        else:
            parts.append(ch)
            i += 1
    return tuple(parts)


_LIMITS = {"y": 9, "u": 9, "M": 4, "L": 4, "d": 2, "D": 3, "H": 2, "h": 2, "m": 2, "s": 2, "S": 9, "a": 1, "E": 4}


def _check_field(letter: str, count: int, pattern: str) -> None:
    limit = _LIMITS.get(letter)
    if limit is None:
        raise PrefixError(f"unsupported letter {letter!r} in timestamp pattern {pattern!r}")
    if count > limit:
        raise PrefixError(f"too many {letter!r} letters in timestamp pattern {pattern!r}")


def format_instant(parts: tuple[_DatePart, ...], when: datetime) -> str:
    """Render parsed pattern ``parts`` for ``when`` (a UTC datetime)."""
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
            continue
        n, letter = part.count, part.letter
        if letter in "yu":
            out.append(f"{when.year % 100:02d}" if n == 2 else str(when.year).zfill(n))
        elif letter in "ML":
            out.append(_MONTHS[when.month - 1][:3] if n == 3 else _MONTHS[when.month - 1] if n == 4 else
                       str(when.month).zfill(n))  # fmt: skip
        elif letter == "d":
            out.append(str(when.day).zfill(n))
        elif letter == "D":
            out.append(str(when.timetuple().tm_yday).zfill(n))
        elif letter == "H":
            out.append(str(when.hour).zfill(n))
        elif letter == "h":
            out.append(str((when.hour % 12) or 12).zfill(n))
        elif letter == "m":
            out.append(str(when.minute).zfill(n))
        elif letter == "s":
            out.append(str(when.second).zfill(n))
        elif letter == "S":
            out.append(f"{when.microsecond:06d}000"[:n])
        elif letter == "a":
            out.append("AM" if when.hour < 12 else "PM")
        else:  # "E"
            out.append(_DAYS[when.weekday()] if n == 4 else _DAYS[when.weekday()][:3])
    return "".join(out)


@dataclass(frozen=True)
class Timestamp:
    parts: tuple[_DatePart, ...]


@dataclass(frozen=True)
class FirehoseValue:
    name: str  # "error-output-type" or "random-string"


@dataclass(frozen=True)
class PartitionKey:
    field: str


Part = str | Timestamp | FirehoseValue | PartitionKey


def parse_prefix(text: str) -> tuple[Part, ...]:
    """Split a prefix into literal text and ``!{namespace:value}`` expressions; raises :class:`PrefixError`."""
    parts: list[Part] = []
    pos = 0
    while True:
        start = text.find("!{", pos)
        if start < 0:
            if text[pos:]:
                parts.append(text[pos:])
            return tuple(parts)
        if start > pos:
            parts.append(text[pos:start])
        end = text.find("}", start)
        if end < 0:
            raise PrefixError(f"unterminated expression at position {start} of {text!r}")
        namespace, sep, value = text[start + 2 : end].partition(":")
        if not sep or not value:
            raise PrefixError(f"expression {text[start : end + 1]!r} must have the form !{{namespace:value}}")
        parts.append(_expression(namespace, value))
        pos = end + 1


def _expression(namespace: str, value: str) -> Part:
    if namespace == "timestamp":
        return Timestamp(parse_date_pattern(value))
    if namespace == "firehose":
        if value not in ("error-output-type", "random-string"):
            raise PrefixError(f"unknown firehose value {value!r}: use error-output-type or random-string")
        return FirehoseValue(value)
    if namespace == "partitionKeyFromQuery":
        if not _FIELD_RE.match(value):
            raise PrefixError(f"partitionKeyFromQuery key {value!r} must be a field name ([A-Za-z_][A-Za-z0-9_]*)")
        return PartitionKey(value)
    if namespace == "partitionKeyFromLambda":
        raise PrefixError("partitionKeyFromLambda is not supported: kemu runs no Lambda; use partitionKeyFromQuery")
    raise PrefixError(f"unknown namespace {namespace!r}: use timestamp, firehose or partitionKeyFromQuery")


def _has_expressions(parts: tuple[Part, ...]) -> bool:
    return any(not isinstance(p, str) for p in parts)


@dataclass(frozen=True)
class KeyLayout:
    """The evaluated-prefix rules of one delivery stream, checked once when it is configured."""

    data: tuple[Part, ...]
    error: tuple[Part, ...]

    @classmethod
    def from_prefixes(cls, prefix: str, error_output_prefix: str | None) -> KeyLayout:
        data = parse_prefix(prefix)
        if any(isinstance(p, FirehoseValue) and p.name == "error-output-type" for p in data):
            raise PrefixError("Prefix can't contain !{firehose:error-output-type}; put it in the error output prefix")
        if error_output_prefix is None or error_output_prefix == "":
            if _has_expressions(data):
                raise PrefixError("ErrorOutputPrefix can't be null when Prefix contains expressions")
            base = _with_slash(prefix)
            default = Timestamp(parse_date_pattern(DEFAULT_TIME_PATTERN))
            error = (*((base,) if base else ()), FirehoseValue("error-output-type"), "/", default)
        else:
            error = parse_prefix(error_output_prefix)
            if any(isinstance(p, PartitionKey) for p in error):
                raise PrefixError("ErrorOutputPrefix can't contain partitionKeyFromQuery: failed records have no key")
            if _has_expressions(error) and FirehoseValue("error-output-type") not in error:
                raise PrefixError("an ErrorOutputPrefix with expressions must contain !{firehose:error-output-type}")
        if not any(isinstance(p, Timestamp) for p in data):
            data = (*parse_prefix(_with_slash(prefix)), Timestamp(parse_date_pattern(DEFAULT_TIME_PATTERN)))
        return cls(data=data, error=error)

    @property
    def partition_keys(self) -> tuple[str, ...]:
        """The ``partitionKeyFromQuery`` fields of the data prefix, in order of first use."""
        return tuple(dict.fromkeys(p.field for p in self.data if isinstance(p, PartitionKey)))

    def render_data(self, when: datetime, random_string: str, keys: dict[str, str] | None = None) -> str:
        return _render(self.data, when, random_string, keys or {}, None)

    def render_error(self, when: datetime, random_string: str, error_output_type: str) -> str:
        return _render(self.error, when, random_string, {}, error_output_type)


def _with_slash(prefix: str) -> str:
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _render(
    parts: tuple[Part, ...], when: datetime, random_string: str, keys: dict[str, str], error_type: str | None
) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif isinstance(part, Timestamp):
            out.append(format_instant(part.parts, when))
        elif isinstance(part, PartitionKey):
            out.append(keys[part.field])
        elif part.name == "random-string":
            out.append(random_string)
        else:
            if error_type is None:
                raise PrefixError("error-output-type has no value outside the error output prefix")
            out.append(error_type)
    text = "".join(out)
    if len(text) > MAX_EVALUATED_LENGTH:
        raise PrefixError(f"evaluated prefix is {len(text)} characters; Firehose allows {MAX_EVALUATED_LENGTH}")
    return text


def check_partition_value(field: str, value: object) -> str:
    """The text of a partition-key value, or :class:`ValueError` when it cannot be one segment of a key."""
    if value is None:
        raise ValueError(f"partition key field {field!r} is missing or null")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, int | float | str):
        text = str(value)
    else:
        raise ValueError(f"partition key field {field!r} is not a scalar")
    if not _SAFE_VALUE_RE.match(text) or text in (".", ".."):
        raise ValueError(f"partition key field {field!r} has a value that is not safe in an object key: {text[:80]!r}")
    return text


def validate_prefixes(prefix: str, error_output_prefix: str | None) -> None:
    """Raise :class:`PrefixError` if Firehose would refuse this pair."""
    KeyLayout.from_prefixes(prefix, error_output_prefix)
