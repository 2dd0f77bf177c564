"""Checkpoints restore exactly; watermarks follow the slowest active partition and skip idle ones."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest

from analytics import Checkpoint, CheckpointError, load_checkpoint, save_checkpoint
from analytics.decode import Decoder
from analytics.emissions import BatchOutcome
from analytics.protocol import make_operator
from analytics.watermarks import MIN_WATERMARK, WatermarkTracker
from tests.unit.analytics.support import BASE_MS, Event, compile_text

QUERY = """-- source: game
-- emit: changes
-- lateness: 1s
-- out_of_orderness: 200ms
SELECT window_start, window_end, player_id AS key, SUM(points) AS score, COUNT(*) AS n
FROM HOP(events, DESCRIPTOR(event_time), INTERVAL '1 second', INTERVAL '3 seconds')
GROUP BY window_start, window_end, player_id
"""


def batches(count: int) -> list[pa.Table]:
    query = compile_text(QUERY)
    decoder = Decoder(query.source, query.name)
    events = [Event(f"e{i}", 0, BASE_MS + i * 37, f"p{i % 5}", i % 11) for i in range(count)]
    out = []
    for start in range(0, count, 50):
        chunk = events[start : start + 50]
        table, _ = decoder.decode(0, list(range(start, start + len(chunk))), [e.encode() for e in chunk])
        out.append(table)
    return out


def finals(outcome: BatchOutcome) -> list[tuple[int, int, str]]:
    # The query has no ORDER BY, so rows compare as a set.
    return [(r.window_start_ms, r.window_end_ms, str(sorted(r.rows, key=str))) for r in outcome.results if r.final]


@pytest.mark.parametrize(
    "emit",
    ["-- emit: changes", "-- emit: changes\n-- emit_interval: 250ms", "-- emit: final"],
    ids=["changes", "throttled-changes", "final"],
)
def test_restore_from_a_checkpoint_continues_exactly(tmp_path: Path, emit: str) -> None:
    """Also with partials waiting to be merged when the snapshot is taken (throttled changes, final)."""
    query = compile_text(QUERY.replace("-- emit: changes", emit))
    inputs = batches(600)
    uninterrupted = make_operator(query)
    whole = BatchOutcome()
    for i, batch in enumerate(inputs):
        whole.extend(uninterrupted.process(batch, i * 100))
    whole.extend(uninterrupted.finish())

    first = make_operator(query)
    before = BatchOutcome()
    for i, batch in enumerate(inputs[:5]):
        before.extend(first.process(batch, i * 100))
    meta, state = first.snapshot()
    path = tmp_path / "q.ckpt"
    save_checkpoint(path, Checkpoint(query.name, query.fingerprint, {0: 250}, meta, state))
    loaded = load_checkpoint(path, query.name, query.fingerprint)
    assert loaded is not None
    assert loaded.offsets == {0: 250}
    second = make_operator(query)
    second.restore(loaded.operator, loaded.state, 500)
    after = BatchOutcome()
    for i, batch in enumerate(inputs[5:], start=5):
        after.extend(second.process(batch, i * 100))
    after.extend(second.finish())
    assert finals(before) + finals(after) == finals(whole)
    assert not list(tmp_path.glob("*.tmp"))


def test_a_checkpoint_of_another_query_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "q.ckpt"
    save_checkpoint(path, Checkpoint("q", "aaaa", {0: 1}))
    with pytest.raises(CheckpointError, match="another version"):
        load_checkpoint(path, "q", "bbbb")
    path.write_bytes(b"garbage")
    with pytest.raises(CheckpointError, match="unreadable"):
        load_checkpoint(path, "q", "aaaa")
    assert load_checkpoint(tmp_path / "missing.ckpt", "q", "aaaa") is None


def test_watermark_is_the_slowest_active_partition_minus_out_of_orderness() -> None:
    tracker = WatermarkTracker(out_of_orderness_ms=100, idle_timeout_ms=1_000)
    tracker.assign([0, 1], now_ms=0)
    tracker.observe(0, 5_000, now_ms=0)
    assert tracker.advance(0) == MIN_WATERMARK  # partition 1 has said nothing yet and is not idle
    tracker.observe(1, 3_000, now_ms=10)
    assert tracker.advance(10) == 2_900
    tracker.observe(0, 9_000, now_ms=900)
    assert tracker.advance(900) == 2_900
    # Partition 1 goes quiet for longer than the idle timeout: it no longer holds the watermark back.
    assert tracker.advance(1_500) == 8_900
    tracker.observe(1, 4_000, now_ms=1_600)  # it wakes up behind: the watermark never goes back
    assert tracker.advance(1_600) == 8_900


def two_partitions_seen_at(event_ms_0: int, event_ms_1: int) -> WatermarkTracker:
    """A tracker of partitions 0 and 1 (no out-of-orderness, idle after 100 ms) that saw one event on each at 0 ms,
    at event times ``event_ms_0`` and ``event_ms_1``."""
    tracker = WatermarkTracker(out_of_orderness_ms=0, idle_timeout_ms=100)
    tracker.assign([0, 1], now_ms=0)
    tracker.observe(0, event_ms_0, now_ms=0)
    tracker.observe(1, event_ms_1, now_ms=0)
    return tracker


def test_all_partitions_idle_lets_the_last_windows_close() -> None:
    tracker = two_partitions_seen_at(1_000, 2_000)
    assert tracker.advance(50) == 1_000
    assert tracker.advance(500) == 2_000


def test_a_partition_with_a_backlog_is_never_idle() -> None:
    tracker = two_partitions_seen_at(5_000, 1_000)
    # Partition 1 has not delivered for a long time, but it has unread records: it still holds the watermark.
    assert tracker.advance(10_000, busy={1}) == 1_000
    assert tracker.advance(10_000) == 5_000
