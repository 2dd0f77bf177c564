"""Durations as written in query headers and settings (``500ms``, ``5s``, ``10 seconds``, ``1m``, ``2h``)."""

from __future__ import annotations

import re

_UNITS_MS = {
    "ms": 1,
    "millisecond": 1,
    "milliseconds": 1,
    "s": 1000,
    "sec": 1000,
    "second": 1000,
    "seconds": 1000,
    "m": 60_000,
    "min": 60_000,
    "minute": 60_000,
    "minutes": 60_000,
    "h": 3_600_000,
    "hour": 3_600_000,
    "hours": 3_600_000,
}
_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([a-z]+)\s*$")


def parse_duration_ms(text: str) -> int:
    """Milliseconds in ``text``; raises ``ValueError`` with the accepted forms when it is not a duration."""
    match = _DURATION.match(text.lower())
    if match is None or match.group(2) not in _UNITS_MS:
        raise ValueError(f"{text!r} is not a duration; write e.g. 500ms, 5s, 1m, 2h")
    return round(float(match.group(1)) * _UNITS_MS[match.group(2)])
