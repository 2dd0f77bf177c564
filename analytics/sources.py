"""Sources: a Kafka topic, the column schema of its JSON events, and its event-time rules (``sources.toml``)."""

from __future__ import annotations

import re
import tomllib
from collections.abc import Collection
from dataclasses import dataclass
from pathlib import Path

import pyarrow as pa

from analytics.durations import parse_duration_ms
from analytics.exceptions import SourceError
from foundation.names import TOPIC_PATTERN

#: Kafka topic names; Kinesis stream names are a subset of these.
TOPIC_NAME = re.compile(TOPIC_PATTERN)
_COLUMN_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]{0,62}$")

#: The DuckDB types a source column may have, with the Arrow type the bulk JSON decoder reads them as.
ARROW_TYPES: dict[str, pa.DataType] = {
    "VARCHAR": pa.string(),
    "BIGINT": pa.int64(),
    "INTEGER": pa.int64(),
    "DOUBLE": pa.float64(),
    "BOOLEAN": pa.bool_(),
    "TIMESTAMP": pa.timestamp("us"),
}


@dataclass(frozen=True)
class Source:
    """One input stream. Events missing a column read it as NULL; unknown fields are ignored."""

    name: str
    topic: str
    columns: tuple[tuple[str, str], ...]
    event_time: str
    out_of_orderness_ms: int = 0
    idle_timeout_ms: int = 10_000

    def arrow_schema(self, only: Collection[str] | None = None) -> pa.Schema:
        """The columns' Arrow types, in declaration order; ``only``: just those named."""
        return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in self.columns if only is None or name in only])

    def column_names(self) -> list[str]:
        return [name for name, _ in self.columns]


def _source_from_table(name: str, table: dict[str, object], origin: Path) -> Source:
    def fail(reason: str) -> SourceError:
        return SourceError(f"{origin}: source {name!r}: {reason}")

    topic = str(table.get("topic", name))
    if not TOPIC_NAME.match(topic):
        raise fail(f"topic {topic!r} is not a valid topic name")
    raw_columns = table.get("columns")
    if not isinstance(raw_columns, dict) or not raw_columns:
        raise fail("needs a [sources.<name>.columns] table of column = TYPE")
    columns: list[tuple[str, str]] = []
    for column, kind in raw_columns.items():
        kind_upper = str(kind).upper()
        if not _COLUMN_NAME.match(column):
            raise fail(f"column name {column!r} is not an identifier")
        if kind_upper not in ARROW_TYPES:
            raise fail(f"column {column!r} has type {kind!r}; use one of {', '.join(ARROW_TYPES)}")
        columns.append((column, kind_upper))
    event_time = str(table.get("event_time", "event_time"))
    if dict(columns).get(event_time) != "TIMESTAMP":
        raise fail(f"event_time column {event_time!r} must be a declared TIMESTAMP column")
    try:
        ooo = parse_duration_ms(str(table.get("out_of_orderness", "0s")))
        idle = parse_duration_ms(str(table.get("idle_timeout", "10s")))
    except ValueError as exc:
        raise fail(str(exc)) from exc
    return Source(name, topic, tuple(columns), event_time, ooo, idle)


def load_sources(path: Path) -> dict[str, Source]:
    """Read a ``sources.toml``: ``[sources.<name>]`` tables with topic, event_time, durations and columns."""
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise SourceError(f"{path}: cannot read sources: {exc}") from exc
    tables = document.get("sources", {})
    if not isinstance(tables, dict):
        raise SourceError(f"{path}: expected [sources.<name>] tables")
    return {name: _source_from_table(name, table, path) for name, table in tables.items()}
