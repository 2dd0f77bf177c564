"""The internal topic between scale-out workers and the merge stage: what a record says, and its bytes.

A worker owns some source partitions. For each one it publishes, per window, the partition's partial aggregates
(one row per key: the operator's own state rows, ``__ws``, ``__we``, ``__g*``, ``__p*``) and, after them, the
partition's progress (its watermark and whether it is idle). Every record carries ``through``: the next source
offset of the partition it covers. The merge stage keeps, per (window, partition), the partial with the largest
``through`` (a final one over an open one at the same offset), and per partition the largest watermark: a replay
after a crash or a rebalance republishes the same records for the same offsets, and a worker that lost a partition
without knowing it (a zombie) publishes older ones, which lose.

Records are Arrow IPC streams; a progress record is an empty table. Their key names what they are about
(``<partition>|<ws>|<we>`` or ``<partition>``), so the topic could be compacted without changing their meaning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.ipc as ipc

from analytics.exceptions import AnalyticsError
from analytics.plan import CompiledQuery

_META = b"kemu.partial"
#: Every internal topic kemu creates starts with ``kemu-``, which the public APIs never reach.
PARTIALS_TOPIC_PREFIX = "kemu-partials-"


class ScaleOutError(AnalyticsError):
    """A query cannot run on several workers, or a scale-out record is not one this version understands."""


@dataclass(frozen=True)
class Partial:
    """One source partition's partial aggregates of one window, as of source offset ``through``."""

    partition: int
    window_start_ms: int
    window_end_ms: int
    through: int
    final: bool
    rows: pa.Table


@dataclass(frozen=True)
class Progress:
    """A source partition's watermark and idleness as of source offset ``through``."""

    partition: int
    watermark_ms: int
    idle: bool
    through: int


def group_name(prefix: str, query: str) -> str:
    """The consumer group of a query's workers: the one whose commits Kafka's tooling already shows."""
    return f"{prefix or 'kemu-analytics-'}{query}"


def partials_topic(group: str) -> str:
    """The internal topic a query's workers publish partials to (one partition: its order is the protocol's)."""
    return f"{PARTIALS_TOPIC_PREFIX}{group}"[:249]


def refusal(query: CompiledQuery) -> str | None:
    """Why ``query`` cannot run on several workers, as a sentence; None when it can.

    Per-partition partials merge exactly when the windows do not depend on other partitions' events: TUMBLE, HOP
    and CUMULATE windows are fixed by time alone, and every aggregate the engine accepts (SUM, COUNT, MIN, MAX, AVG
    as sum and count) is already kept as mergeable partials. A SESSION's bounds depend on the key's events in every
    partition, so its partials do not merge window by window."""
    if query.window is None:
        return (
            f"query {query.name} is stateless (it reads FROM events without a window): it runs on one worker; "
            "scale-out (--workers, --group-member) is for windowed queries"
        )
    if query.window.kind == "session":
        return (
            f"query {query.name} uses SESSION windows, whose bounds depend on a key's events in every partition, so "
            "per-partition partials cannot be merged window by window: run it on one worker (without --workers)"
        )
    return None


def encode_partial(partial: Partial) -> tuple[bytes, bytes]:
    key = f"{partial.partition}|{partial.window_start_ms}|{partial.window_end_ms}"
    meta = {
        "kind": "partial",
        "partition": partial.partition,
        "ws": partial.window_start_ms,
        "we": partial.window_end_ms,
        "through": partial.through,
        "final": partial.final,
    }
    return key.encode(), _ipc(partial.rows, meta)


def encode_progress(progress: Progress) -> tuple[bytes, bytes]:
    meta = {
        "kind": "progress",
        "partition": progress.partition,
        "watermark": progress.watermark_ms,
        "idle": progress.idle,
        "through": progress.through,
    }
    return str(progress.partition).encode(), _ipc(pa.table({}), meta)


def _ipc(table: pa.Table, meta: dict[str, object]) -> bytes:
    schema = table.schema.with_metadata({_META: json.dumps(meta).encode()})
    sink = pa.BufferOutputStream()
    with ipc.new_stream(sink, schema) as writer:
        writer.write_table(table.replace_schema_metadata(schema.metadata))
    return bytes(sink.getvalue().to_pybytes())


def decode(value: bytes) -> Partial | Progress:
    """The record ``value`` of the partials topic; :class:`ScaleOutError` when it is not one."""
    try:
        table = ipc.open_stream(pa.py_buffer(value)).read_all()
        meta = json.loads((table.schema.metadata or {})[_META])
        kind = meta["kind"]
        if kind == "progress":
            return Progress(int(meta["partition"]), int(meta["watermark"]), bool(meta["idle"]), int(meta["through"]))
        if kind == "partial":
            rows = table.replace_schema_metadata(None)
            partition, through = int(meta["partition"]), int(meta["through"])
            return Partial(partition, int(meta["ws"]), int(meta["we"]), through, bool(meta["final"]), rows)
    except (pa.ArrowException, KeyError, ValueError, TypeError) as exc:
        raise ScaleOutError(f"a record of the partials topic is not a scale-out partial: {exc}") from exc
    raise ScaleOutError(f"a record of the partials topic has an unknown kind {kind!r}")
