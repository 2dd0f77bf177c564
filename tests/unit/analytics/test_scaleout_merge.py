"""Scale-out without a broker: per-partition operators and the merge stage give one operator's final results.

The workers are simulated as the live ones behave: each partition's operator folds its events batch by batch, and
after each batch its partials and progress go to the merge state in publishing order. Partitions change owner (the
operator is rebuilt from its last checkpoint and the events after it are processed again), and the merge state
itself is rebuilt from the records published so far, as a restarted merge stage reads its topic from the start.
"""

from __future__ import annotations

import random
from typing import Any

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analytics.decode import Decoder
from analytics.emissions import WindowResult
from analytics.plan import CompiledQuery
from analytics.scaleout import MergeState, Partial, PartitionOperator, Progress, ScaleOutError, refusal
from analytics.scaleout.partials import decode, encode_partial, encode_progress
from analytics.scaleout.worker import GroupWorker
from tests.unit.analytics.support import BASE_MS, Event, compile_text, run

BOARD = """-- emit: {emit}
-- lateness: {lateness}ms
-- source: game
SELECT window_start, window_end,
       ROW_NUMBER() OVER (PARTITION BY window_start, window_end ORDER BY (-SUM(points), player_id)) AS rank,
       player_id AS key, SUM(points) AS score, COUNT(*) AS n, MIN(points) AS low, MAX(points) AS high,
       AVG(points) AS mean
FROM {window}
WHERE event_type = 'score'
GROUP BY window_start, window_end, player_id
HAVING COUNT(*) >= {at_least}
QUALIFY rank <= 3
"""


def window_sql(kind: str, size: int, slide: int) -> str:
    if kind == "tumble":
        return f"TUMBLE(events, DESCRIPTOR(event_time), INTERVAL '{size} milliseconds')"
    return f"{kind.upper()}(events, DESCRIPTOR(event_time), INTERVAL '{slide} milliseconds', " + (
        f"INTERVAL '{size} milliseconds')"
    )


class Worker:
    """One source partition's operator as a worker runs it: batches in, partials and progress records out, a
    checkpoint after each flush."""

    def __init__(self, query: CompiledQuery, partition: int) -> None:
        self.query, self.partition = query, partition
        self.decoder = Decoder(query.source, query.name)
        self.operator = PartitionOperator(query)
        self.operator.watermarks.assign([partition], 0)
        self.offset = 0
        self.checkpoint: tuple[int, dict[str, object], pa.Table | None] | None = None

    def feed(self, events: list[Event]) -> list[bytes]:
        if events:
            table, bad = self.decoder.decode(
                self.partition, range(self.offset, self.offset + len(events)), [e.encode() for e in events]
            )
            assert not bad
            self.operator.process(table, 0)
            self.offset += len(events)
        return self.flush()

    def finish(self) -> list[bytes]:
        self.operator.finish()
        return self.flush()

    def flush(self) -> list[bytes]:
        records = [
            encode_partial(Partial(self.partition, ws, we, self.offset, final, rows))[1]
            for ws, we, final, rows in self.operator.take()
        ]
        watermark = self.operator.watermarks.watermark
        records.append(encode_progress(Progress(self.partition, watermark, False, self.offset))[1])
        meta, state = self.operator.snapshot()
        self.checkpoint = (self.offset, meta, state)
        return records

    def restarted(self) -> Worker:
        """The next owner: the last checkpoint restored (the work after it is lost and done again)."""
        worker = Worker(self.query, self.partition)
        if self.checkpoint is not None:
            offset, meta, state = self.checkpoint
            worker.operator.restore(meta, state, 0)
            worker.offset = offset
            worker.checkpoint = self.checkpoint
        return worker


def finals(results: list[WindowResult]) -> dict[tuple[int, int], list[dict[str, Any]]]:
    return {(r.window_start_ms, r.window_end_ms): r.rows for r in results if r.final}


@st.composite
def scenarios(draw: st.DrawFn) -> dict[str, Any]:
    kind = draw(st.sampled_from(["tumble", "hop", "cumulate"]))
    slide = draw(st.integers(1, 4)) * 500
    size = slide if kind == "tumble" else slide * draw(st.integers(1, 4))
    lateness = draw(st.sampled_from([0, 500]))
    partitions = draw(st.integers(1, 3))
    count = draw(st.integers(1, 100))
    clocks = dict.fromkeys(range(partitions), BASE_MS + draw(st.integers(0, 3000)))
    events = []
    for i in range(count):
        partition = draw(st.integers(0, partitions - 1))
        clocks[partition] += draw(st.integers(0, 600))
        # Within a partition, events are never more out of order than the lateness allows: none is late on one
        # worker or on several.
        t = clocks[partition] - draw(st.integers(0, lateness))
        kind_of = draw(st.sampled_from(["score", "score", "level_up"]))
        events.append(Event(f"e{i}", partition, t, draw(st.sampled_from("abcde")), draw(st.integers(0, 50)), kind_of))
    cuts = sorted(draw(st.lists(st.integers(0, count), max_size=6)))
    return {
        "query": BOARD.format(
            emit=draw(st.sampled_from(["final", "changes"])),
            lateness=lateness,
            window=window_sql(kind, size, slide),
            at_least=draw(st.sampled_from([1, 2])),
        ),
        "partitions": partitions,
        "events": events,
        "arrivals": [events[a:b] for a, b in zip([0, *cuts], [*cuts, count], strict=True)],
        "seed": draw(st.integers(0, 2**16)),
    }


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_partials_merged_across_partitions_equal_one_operator(scenario: dict[str, Any]) -> None:
    query = compile_text(scenario["query"])
    expected = finals(run(query, scenario["arrivals"]).results)
    rng = random.Random(scenario["seed"])
    partitions = range(scenario["partitions"])
    workers = {p: Worker(query, p) for p in partitions}
    topic: list[bytes] = []
    merge = MergeState(query, list(partitions))
    results: list[WindowResult] = []

    def publish(records: list[bytes]) -> None:
        topic.extend(records)
        for value in records:
            merge.add(decode(value))
        results.extend(merge.emit())

    for arrival in scenario["arrivals"]:
        for p in partitions:
            mine = [e for e in arrival if e.partition == p]
            if rng.random() < 0.3:
                # The partition moves (its worker died after its last checkpoint, or a rebalance): the new owner
                # restores the checkpoint; the events since are processed again.
                replayed = workers[p].offset - (workers[p].checkpoint or (0,))[0]
                workers[p] = workers[p].restarted()
                assert replayed == 0  # a flush follows every batch here, so nothing is lost between checkpoints
            publish(workers[p].feed(mine))
        if rng.random() < 0.2:
            # The merge stage restarts: its state is rebuilt from the topic, and it emits the same results again.
            merge = MergeState(query, list(partitions))
            for value in topic:
                merge.add(decode(value))
            results.extend(merge.emit())
    for p in partitions:
        publish(workers[p].finish())
    assert finals(results) == expected


def test_a_replay_after_a_crash_republishes_the_same_partials() -> None:
    """A worker killed between checkpoints: its successor redoes the batches since, and the partials it publishes
    again for the same offsets replace the first ones; a zombie's older partial loses to them."""
    query = compile_text(BOARD.format(emit="final", lateness=0, window=window_sql("tumble", 1000, 1000), at_least=1))
    events = [Event(f"e{i}", 0, BASE_MS + i * 100, "ab"[i % 2], i) for i in range(35)]
    other = Worker(query, 1)  # a slow partition: it holds the query's watermark back
    first, last = Event("x0", 1, BASE_MS + 500, "a", 1), Event("x1", 1, BASE_MS + 5000, "b", 2)
    published = other.feed([first])
    worker = Worker(query, 0)
    published += worker.feed(events[:10])  # published and checkpointed at offset 10
    checkpoint = worker.checkpoint
    batch, _ = worker.decoder.decode(0, range(10, 15), [e.encode() for e in events[10:15]])
    worker.operator.process(batch, 0)
    worker.offset = 15
    stale = worker.flush()  # published; the worker dies before this checkpoint is written
    worker.checkpoint = checkpoint
    successor = worker.restarted()
    assert successor.offset == 10
    published += stale + successor.feed(events[10:12])  # behind what the dead worker published
    published += successor.feed(events[12:25])  # closes [1000, 2000) on partition 0: its final partial
    published += stale  # a zombie's copy of the open [1000, 2000), after the final one
    published += other.feed([last]) + successor.finish() + other.finish()
    merge = MergeState(query, [0, 1])
    results: list[WindowResult] = []
    for value in published:
        merge.add(decode(value))
        results.extend(merge.emit())
    assert finals(results) == finals(run(query, [[first, *events[:25], last]]).results)


def test_session_and_stateless_queries_are_refused_with_a_sentence() -> None:
    session = compile_text(
        "-- source: game\nSELECT window_start, window_end, player_id, COUNT(*) AS n "
        "FROM SESSION(events, DESCRIPTOR(event_time), INTERVAL '5 seconds') "
        "GROUP BY window_start, window_end, player_id"
    )
    stateless = compile_text("-- source: game\nSELECT player_id, points FROM events")
    assert "SESSION windows" in (refusal(session) or "")
    assert "stateless" in (refusal(stateless) or "")
    with pytest.raises(ScaleOutError, match="query q uses SESSION windows"):
        GroupWorker(session, "127.0.0.1:9", _config())


def _config() -> Any:
    from analytics.config import AnalyticsConfig

    return AnalyticsConfig()


def test_an_unknown_record_is_a_clear_error() -> None:
    with pytest.raises(ScaleOutError, match="not a scale-out partial"):
        decode(b"{}")


def test_a_partition_with_unread_records_is_never_idle_whatever_its_last_owner_said() -> None:
    """A worker reports its partition idle, then dies; records arrive on it, and no one reads them until the group
    gives it to another worker. The merge must not close windows without them: a partition whose records are not all
    read is busy (the engine's own rule), so the watermark waits for it."""
    query = compile_text(BOARD.format(emit="final", lateness=0, window=window_sql("tumble", 1000, 1000), at_least=1))
    merge = MergeState(query, [0, 1])
    merge.add(Progress(1, BASE_MS + 900, True, through=5))  # its last word before it died
    merge.add(Progress(0, BASE_MS + 4000, False, through=40))
    merge.set_ends({0: 40, 1: 12})  # seven records on partition 1 nobody has read
    assert merge.advance() == BASE_MS + 900
    merge.set_ends({0: 40, 1: 5})  # all read: idle indeed
    assert merge.advance() == BASE_MS + 4000
