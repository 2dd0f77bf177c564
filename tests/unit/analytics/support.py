"""Helpers of the analytics unit tests: a game-events source, random events, and a driver for the operator."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import orjson
import pyarrow as pa

from analytics.compiler import compile_query
from analytics.decode import Decoder
from analytics.emissions import BatchOutcome
from analytics.emissions import iso_ms as iso
from analytics.plan import CompiledQuery
from analytics.protocol import make_operator
from analytics.query_files import load_queries
from analytics.sources import Source


def in_order_source(name: str, columns: tuple[tuple[str, str], ...]) -> Source:
    """A source ``name`` reading the topic of that name, its event time in ``event_time``, no out-of-orderness
    allowed (the watermark is the latest event time) and 10 s of idleness before a partition stops holding it."""
    return Source(
        name=name,
        topic=name,
        columns=columns,
        event_time="event_time",
        out_of_orderness_ms=0,
        idle_timeout_ms=10_000,
    )


GAME = in_order_source(
    "game",
    (
        ("event_id", "VARCHAR"),
        ("event_type", "VARCHAR"),
        ("event_time", "TIMESTAMP"),
        ("player_id", "VARCHAR"),
        ("points", "BIGINT"),
    ),
)
BASE_MS = 1_800_000_000_000
#: Every game event out as it came in, to a topic of its own: the query that keeps every field a poison touches.
COPY_QUERY = """-- source: game-events
-- output: topic
-- output_topic: game-copy
SELECT * FROM events
"""


def builtins_and(name: str, text: str) -> dict[str, CompiledQuery]:
    """The built-in queries, and ``text`` compiled as the file ``<name>.sql`` over their sources."""
    queries = load_queries()
    sources = {q.source.name: q.source for q in queries.values()}
    queries[name] = compile_query(Path(f"{name}.sql"), text, sources)
    return queries


@dataclass(frozen=True)
class Event:
    event_id: str
    partition: int
    t: int
    player: str
    points: int
    event_type: str = "score"

    def encode(self) -> bytes:
        return orjson.dumps(
            {
                "event_id": self.event_id,
                "event_type": self.event_type,
                "event_time": iso(self.t),
                "player_id": self.player,
                "points": self.points,
            }
        )


def compile_text(text: str, source: Source = GAME, name: str = "q.sql") -> CompiledQuery:
    return compile_query(Path(name), text, {source.name: source})


def run(query: CompiledQuery, arrivals: Sequence[Sequence[Event]], finish: bool = True) -> BatchOutcome:
    """Feed batches (each a list of events, grouped per partition as a consumer would) through a fresh operator."""
    operator = make_operator(query)
    decoder = Decoder(query.source, query.name)
    total = BatchOutcome()
    offsets: dict[int, int] = {}
    watermarks = getattr(operator, "watermarks", None)
    if watermarks is not None:
        # As the live runner does: every partition read is known from the start, so one that delivers its first
        # record late does not find its windows closed by the others' watermarks.
        watermarks.assign(sorted({event.partition for arrival in arrivals for event in arrival}), 0)
    for arrival in arrivals:
        by_partition: dict[int, list[Event]] = {}
        for event in arrival:
            by_partition.setdefault(event.partition, []).append(event)
        tables = []
        for partition, events in sorted(by_partition.items()):
            start = offsets.get(partition, 0)
            offsets[partition] = start + len(events)
            table, bad = decoder.decode(partition, range(start, start + len(events)), [e.encode() for e in events])
            assert not bad
            tables.append(table)
        batch = pa.concat_tables(tables) if tables else pa.table({})
        total.extend(operator.process(batch, 0))
    if finish:
        total.extend(operator.finish())
    return total
