"""``/pipeline``'s assembly from the components' reports (pure): nodes, edges with rates, each query's watermark
delay, late and error counts, the engine's lag apart from the sinks' buffering, internal topics apart."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from emulator.api.models import ShardInfo, StreamInfo, StreamsAnswer
from emulator.api.pipeline import RateTracker, assemble

NOW = datetime(2026, 11, 27, 8, 0, 10, tzinfo=UTC)


def stream(name: str, rate: float, shards: int = 2, end: int = 100) -> StreamInfo:
    return StreamInfo(
        name=name,
        shards=[
            ShardInfo(shard_id=f"s{i}", partition=i, starting_hash_key="0", ending_hash_key="1", end_offset=end,
                      records_per_s=rate / shards)
            for i in range(shards)
        ],
        records_per_s=rate,
        consumers=[],
    )  # fmt: skip


def reports(
    events: float, q_events: float, objects: float
) -> tuple[dict[str, dict[str, float]], dict[str, dict[str, str]]]:
    stats = {
        "producer-game": {"events_out": events, "errors": 1},
        "analytics": {
            "q.leaderboard_1m.events": q_events,
            "q.leaderboard_1m.lag": 40,
            "q.leaderboard_1m.late": 3,
            "q.leaderboard_1m.errors": 2,
            "q.leaderboard_1m.watermark_ms": NOW.timestamp() * 1000 - 2500,
            "q.clean.events": q_events,
            "q.clean.lag": 7,
        },
        "sink-game-events-to-s3": {
            "events_in": events,
            "lag": 500,
            "sink_objects": objects,
            "sink_bytes": 2048,
            "errors": 4,
        },
    }
    info = {
        "producer-game": {"stream": "game-events"},
        "analytics": {
            "q.leaderboard_1m.source": "game-events",
            "q.leaderboard_1m.output": "analytics-results",
            "q.clean.source": "game-events",
            "q.clean.output": "game-clean",
        },
        "sink-game-events-to-s3": {"source": "game-events", "bucket": "kemu", "last_key": "firehose/x.parquet"},
    }
    return stats, info


def test_the_pipeline_is_drawn_from_the_reports_with_rates() -> None:
    tracker = RateTracker(window_s=2.0)
    answer = StreamsAnswer(
        kafka_reachable=True,
        as_of=NOW,
        streams=[stream("game-events", 500.0), stream("analytics-results", 3.0, 1), stream("game-clean", 490.0),
                 stream("kemu-kinesis-metadata", 0.0, 1), stream("orders", 0.0)],
    )  # fmt: skip
    internal = frozenset({"analytics-results", "kemu-kinesis-metadata"})
    states = {"producer-game": "running", "analytics": "running", "sink-game-events-to-s3": "backoff"}
    stats, info = reports(1000, 900, 2)
    first = assemble(states, stats, info, answer, internal, tracker, NOW)
    assert first.producers[0].records_per_s == 0  # no earlier report to take a rate against
    stats, info = reports(2000, 1800, 3)
    tracker._history = type(tracker._history)((at - 2.5, snap) for at, snap in tracker._history)  # 2.5 s ago
    later = assemble(states, stats, info, answer, internal, tracker, NOW)

    assert [s.name for s in later.streams] == ["game-events", "orders"]  # user streams only
    assert [s.name for s in later.outputs] == ["analytics-results", "game-clean"]
    assert [s.name for s in later.internal_topics] == ["kemu-kinesis-metadata"]
    producer = later.producers[0]
    assert (producer.stream, producer.errors) == ("game-events", 1)
    assert producer.records_per_s == pytest.approx(400, rel=0.01)
    board = next(q for q in later.queries if q.name == "leaderboard_1m")
    assert (board.source, board.output, board.lag, board.late, board.errors) == (
        "game-events", "analytics-results", 40, 3, 2
    )  # fmt: skip
    assert board.watermark_delay_s == pytest.approx(2.5)
    assert board.events_per_s == pytest.approx(360, rel=0.01)
    assert next(q for q in later.queries if q.name == "clean").watermark_delay_s is None
    sink = later.delivery[0]
    assert (sink.name, sink.source, sink.state, sink.objects, sink.bytes, sink.errors, sink.buffered) == (
        "game-events-to-s3", "game-events", "backoff", 3, 2048, 4, 500
    )  # fmt: skip
    assert sink.last_key == "firehose/x.parquet"
    assert sink.objects_per_min == pytest.approx(24, rel=0.01)
    assert later.engine_lag == 40  # the most-behind query, not the sinks' buffer
    assert later.sinks_buffered == 500
    edges = {(e.source, e.target): e.records_per_s for e in later.edges}
    assert edges[("producer:producer-game", "stream:game-events")] == pytest.approx(400, rel=0.01)
    assert ("stream:game-events", "query:leaderboard_1m") in edges
    assert ("query:leaderboard_1m", "topic:analytics-results") in edges
    assert ("stream:game-events", "delivery:game-events-to-s3") in edges
    assert ("delivery:game-events-to-s3", "bucket:kemu") in edges


def test_a_restarted_component_s_counters_do_not_give_negative_rates() -> None:
    tracker = RateTracker(window_s=1.0)
    tracker.rates({"c": 5000.0}, now=0.0)
    assert tracker.rates({"c": 100.0}, now=2.0) == {"c": 50.0}
