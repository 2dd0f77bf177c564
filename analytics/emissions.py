"""What an operator emits per micro-batch, and its JSON encoding for Kafka: the results and alerts records follow the
contract's JSON Schemas (:mod:`analytics.contract`), which a test holds this module and the API's reader to."""

from __future__ import annotations

import datetime as dt
import hashlib
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import orjson


def iso_ms(epoch_ms: int) -> str:
    """``2026-11-27T08:00:00.123Z``: ISO-8601 UTC with milliseconds, as every event time in the project."""
    clamped = max(min(epoch_ms, 253402300799999), -62135596800000)
    moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(milliseconds=clamped)
    # isoformat pads the year to four digits (strftime's %Y does not on Linux: "1-01-01" before any watermark).
    return moment.isoformat(timespec="milliseconds").replace("+00:00", "Z")


#: The integers orjson writes; beyond them a number is written as a float (a HUGEINT sum of large values).
_JSON_INTEGERS = range(-(2**63), 2**64)


def json_value(value: Any) -> Any:
    """A DuckDB/Arrow value as plain JSON: timestamps in the project's ISO form, HUGEINT sums as integers (as
    floats beyond 64 bits, which orjson cannot write)."""
    if isinstance(value, dt.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return iso_ms(int(aware.timestamp() * 1000))
    if isinstance(value, Decimal):
        if value != value.to_integral_value():
            return float(value)
        whole = int(value)
        return whole if whole in _JSON_INTEGERS else float(whole)
    if isinstance(value, int) and not isinstance(value, bool) and value not in _JSON_INTEGERS:
        return float(value)
    if isinstance(value, dict):
        return {k: json_value(v) for k, v in value.items()}
    if isinstance(value, list):
        return [json_value(v) for v in value]
    return value


@dataclass(frozen=True)
class WindowResult:
    """The complete current result of one (query, window): a later one for the same key replaces it."""

    query: str
    window_start_ms: int
    window_end_ms: int
    final: bool
    watermark_ms: int
    rows: list[dict[str, Any]]
    #: Session windows of different keys may share a start, so their records are keyed by the end as well.
    session: bool = False

    @property
    def key(self) -> str:
        if self.session:
            return f"{self.query}|{iso_ms(self.window_start_ms)}|{iso_ms(self.window_end_ms)}"
        return f"{self.query}|{iso_ms(self.window_start_ms)}"


@dataclass(frozen=True)
class LateEvent:
    """An event whose window(s) had already closed when it arrived; it is counted and routed, never dropped."""

    query: str
    partition: int
    offset: int
    event_time_ms: int
    watermark_ms: int
    missed_windows: list[tuple[int, int]]
    event: dict[str, Any]


@dataclass(frozen=True)
class BadRecord:
    """A record that could not be used, with the reason (malformed JSON, missing event time, ETL rejection)."""

    query: str
    partition: int
    offset: int
    reason: str
    raw: str


@dataclass
class BatchOutcome:
    """Everything one micro-batch produced, in emission order."""

    results: list[WindowResult] = field(default_factory=list)
    late: list[LateEvent] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)
    errors: list[BadRecord] = field(default_factory=list)

    def extend(self, other: BatchOutcome) -> None:
        self.results += other.results
        self.late += other.late
        self.rows += other.rows
        self.errors += other.errors


def _dumps(document: dict[str, Any]) -> bytes:
    # A type JSON has no form for (an INTERVAL's timedelta, a BLOB's bytes) is written as its text rather than
    # stopping the query at every emission.
    return orjson.dumps(json_value(document), default=str)


def result_record(result: WindowResult, emitted_at_ms: int, extra: dict[str, Any] | None = None) -> tuple[bytes, bytes]:
    """(key, value) of an ``analytics-results`` record."""
    document: dict[str, Any] = {
        "query": result.query,
        "window_start": iso_ms(result.window_start_ms),
        "window_end": iso_ms(result.window_end_ms),
        "final": result.final,
        "watermark": iso_ms(result.watermark_ms),
        "emitted_at": iso_ms(emitted_at_ms),
        "rows": result.rows,
    }
    if extra:
        document.update(extra)
    return result.key.encode(), _dumps(document)


#: The severity of an alert whose row has no ``severity`` column, or a NULL one.
DEFAULT_SEVERITY = "warning"


def alert_key(row: dict[str, Any]) -> str | None:
    """An alert's key: the row's ``key`` column as text; None (JSON null) when the row has none or it is NULL, as
    the evidence shows it, never the text "None"."""
    key = row.get("key")
    return None if key is None else str(key)


def alert_records(result: WindowResult, emitted_at_ms: int) -> list[tuple[bytes, bytes]]:
    """One ``analytics-alerts`` record per result row; the id is derived from (query, window, key) so a replay
    after a crash repeats the same id instead of raising a second alert.

    ``key``, ``severity`` and ``message`` come from the row's columns of those names; without them (or when NULL)
    the key is null, the severity ``warning`` and the message "<query> fired for <key>" ("<query> fired" with no key).
    """
    records = []
    for row in result.rows:
        key = alert_key(row)
        # Without a key the identity has no third field, so it equals no keyed one (query names have no "|").
        identity = f"{result.query}|{iso_ms(result.window_start_ms)}"
        identity += "" if key is None else f"|{key}"
        alert_id = hashlib.sha256(identity.encode()).hexdigest()[:32]
        evidence = {k: v for k, v in row.items() if k not in ("severity", "message")}
        fired = f"{result.query} fired" if key is None else f"{result.query} fired for {key}"
        document = {
            "alert_id": alert_id,
            "query": result.query,
            "key": key,
            "window_start": iso_ms(result.window_start_ms),
            "window_end": iso_ms(result.window_end_ms),
            "emitted_at": iso_ms(emitted_at_ms),
            "severity": str(row.get("severity") or DEFAULT_SEVERITY),
            "message": str(row.get("message") or fired),
            "evidence": evidence,
        }
        records.append((alert_id.encode(), _dumps(document)))
    return records


def late_record(late: LateEvent) -> tuple[bytes, bytes]:
    document = {
        "query": late.query,
        "partition": late.partition,
        "offset": late.offset,
        "event_time": iso_ms(late.event_time_ms),
        "watermark": iso_ms(late.watermark_ms),
        "missed_windows": [[iso_ms(s), iso_ms(e)] for s, e in late.missed_windows],
        "event": late.event,
    }
    return f"{late.query}|{late.partition}|{late.offset}".encode(), _dumps(document)


def error_record(bad: BadRecord) -> tuple[bytes, bytes]:
    """(key, value) of an ``analytics-errors`` record: keyed by the record's source position, so a replay's copy
    replaces it; a row an ETL query rejected has no position (-1), and is keyed by a digest of its content."""
    document = {
        "query": bad.query,
        "partition": bad.partition,
        "offset": bad.offset,
        "reason": bad.reason,
        "record": bad.raw,
    }
    if bad.partition < 0:
        digest = hashlib.sha256(f"{bad.reason}\n{bad.raw}".encode()).hexdigest()[:32]
        return f"{bad.query}|row|{digest}".encode(), _dumps(document)
    return f"{bad.query}|{bad.partition}|{bad.offset}".encode(), _dumps(document)


def row_record(row: dict[str, Any]) -> tuple[bytes | None, bytes]:
    """An ETL output row; keyed by its ``key`` column, else its ``event_id``, so replays overwrite."""
    key = row.get("key", row.get("event_id"))
    return (str(key).encode() if key is not None else None), _dumps(row)
