"""The comment header of a query file: ``-- key: value`` lines before the SQL."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from analytics.durations import parse_duration_ms
from analytics.exceptions import QueryError
from analytics.sources import TOPIC_NAME

EmitMode = Literal["changes", "final"]
OutputKind = Literal["results", "alerts", "topic"]

QUERY_NAME = re.compile(r"^[a-z0-9][a-z0-9_-]{0,63}$")
_HEADER_LINE = re.compile(r"^--\s*([a-z_]+)\s*:\s*(.*?)\s*$")
_KEYS = {
    "name",
    "source",
    "emit",
    "emit_interval",
    "output",
    "output_topic",
    "lateness",
    "out_of_orderness",
    "idle_timeout",
}


@dataclass(frozen=True)
class Header:
    """What a query declares about itself; durations in milliseconds, ``None`` where the source's default holds."""

    name: str
    source: str
    emit: EmitMode
    output: OutputKind
    output_topic: str | None
    lateness_ms: int
    out_of_orderness_ms: int | None
    idle_timeout_ms: int | None
    #: ``emit: changes`` only: the least processing time between two emissions of a query's changed windows; 0
    #: emits them after every micro-batch.
    emit_interval_ms: int = 0


def parse_header(path: Path, text: str) -> Header:
    """Read the leading ``-- key: value`` lines; other comments are allowed, unknown keys are an error."""
    values: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped:
            continue
        if not stripped.startswith("--"):
            break
        match = _HEADER_LINE.match(stripped)
        if match is None:
            continue
        key, value = match.groups()
        if key not in _KEYS:
            raise QueryError(path, number, f"unknown header key {key!r}; known: {', '.join(sorted(_KEYS))}")
        values[key] = (value, number)

    def get(key: str, default: str | None = None) -> tuple[str, int] | None:
        if key in values:
            return values[key]
        return None if default is None else (default, 1)

    def duration(key: str, default: str | None) -> int | None:
        found = get(key, default)
        if found is None:
            return None
        try:
            return parse_duration_ms(found[0])
        except ValueError as exc:
            raise QueryError(path, found[1], f"{key}: {exc}") from exc

    name, name_line = get("name", path.stem.replace(".", "_")) or ("", 1)
    if not QUERY_NAME.match(name):
        raise QueryError(
            path,
            name_line,
            f"query name {name!r} must be 1 to 64 lowercase letters, digits, '_' or '-', starting with a letter or "
            f"digit ({QUERY_NAME.pattern})",
        )
    source = get("source")
    if source is None:
        raise QueryError(path, 1, "missing header line '-- source: <name>' naming the source in sources.toml")
    emit, emit_line = get("emit", "final") or ("final", 1)
    if emit not in ("changes", "final"):
        raise QueryError(path, emit_line, f"emit must be 'changes' or 'final', not {emit!r}")
    emit_interval_ms = duration("emit_interval", "0s") or 0
    if emit_interval_ms and emit != "changes":
        found = get("emit_interval")
        raise QueryError(path, found[1] if found else 1, "emit_interval applies only to 'emit: changes'")
    output, output_line = get("output", "results") or ("results", 1)
    if output not in ("results", "alerts", "topic"):
        raise QueryError(path, output_line, f"output must be 'results', 'alerts' or 'topic', not {output!r}")
    topic = get("output_topic")
    if output == "topic" and topic is None:
        raise QueryError(path, output_line, "output 'topic' needs a '-- output_topic: <topic>' header line")
    if topic is not None and not TOPIC_NAME.match(topic[0]):
        raise QueryError(path, topic[1], f"output_topic {topic[0]!r} is not a valid topic name")
    return Header(
        name=name,
        source=source[0],
        emit=emit,  # type: ignore[arg-type]
        output=output,  # type: ignore[arg-type]
        output_topic=topic[0] if topic else None,
        lateness_ms=duration("lateness", "0s") or 0,
        out_of_orderness_ms=duration("out_of_orderness", None),
        idle_timeout_ms=duration("idle_timeout", None),
        emit_interval_ms=emit_interval_ms,
    )
