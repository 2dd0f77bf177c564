import asyncio
import math
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from producers import (
    JsonlRecorder,
    Progress,
    RealismConfig,
    Record,
    RecordSource,
    RunConfig,
    StreamKind,
    produce,
)
from tests.support.record_sources import record_source

pytestmark = pytest.mark.unit


class VirtualClock:
    """A clock that moves only when the runner sleeps, in whole nanoseconds: pacing is checked against the schedule
    the runner keeps, not against how busy the machine happens to be. ``stop`` is set once ``stop_at_s`` is reached."""

    def __init__(self, stop: asyncio.Event | None = None, stop_at_s: float = math.inf) -> None:
        self.ns = 0
        self.stop = stop
        self.stop_at_s = stop_at_s

    def now(self) -> float:
        return self.ns / 1e9

    async def sleep(self, seconds: float) -> None:
        self.ns += max(1, math.ceil(seconds * 1e9))
        if self.stop is not None and self.now() >= self.stop_at_s:
            self.stop.set()
        await asyncio.sleep(0)


def game_source(seed: int = 1, rate: float = 1000.0, realism: RealismConfig | None = None) -> RecordSource:
    return record_source(StreamKind.GAME, seed, rate, realism)


async def test_count_bounds_the_run_and_every_event_is_recorded_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    async with JsonlRecorder(path) as recorder:
        summary = await produce(game_source(), recorder, RunConfig(count=12_345, chunk_size=1000))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 12_345 == summary.generated == summary.sent == summary.acknowledged
    assert summary.failed == 0
    assert all(orjson.loads(line)["player_id"].startswith("player-") for line in lines)


async def test_paced_run_keeps_the_rate(tmp_path: Path) -> None:
    clock = VirtualClock()
    progress: list[Progress] = []
    recorder = ChunkCountingRecorder(tmp_path / "paced.jsonl", clock)
    async with recorder:
        summary = await produce(
            game_source(rate=4000.0),
            recorder,
            RunConfig(rate=4000.0, count=4000),
            on_progress=progress.append,
            progress_interval_s=0.2,
            clock=clock,
        )
    # 4,000 events at 4,000 events/s: one second of the run's clock.
    assert summary.elapsed_s == pytest.approx(1.0, abs=1e-6)
    assert summary.acknowledged == 4000
    # Never ahead of the schedule, and never behind it by more than one pacing tick (5 ms: 20 events).
    sent = 0
    for at_s, size in recorder.chunks:
        sent += size
        assert sent <= at_s * 4000.0 + 1e-6
        assert sent >= at_s * 4000.0 - 20
    assert len(progress) >= 5
    assert [p.generated for p in progress] == sorted(p.generated for p in progress)


async def test_duration_bounds_the_run(tmp_path: Path) -> None:
    clock = VirtualClock()
    async with JsonlRecorder(tmp_path / "timed.jsonl") as recorder:
        summary = await produce(game_source(), recorder, RunConfig(rate=2000.0, duration_s=0.5), clock=clock)
    assert summary.elapsed_s == pytest.approx(0.5, abs=1e-6)
    # 0.5 s at 2,000 events/s, less at most the last pacing tick's worth (10 events).
    assert 990 <= summary.generated <= 1000


async def test_stop_event_ends_an_unbounded_run_and_held_events_are_flushed(tmp_path: Path) -> None:
    stop = asyncio.Event()
    clock = VirtualClock(stop, stop_at_s=0.3)
    path = tmp_path / "stopped.jsonl"
    realism = RealismConfig(out_of_order_ratio=0.3, out_of_order_mean_delay_ms=60_000, out_of_order_max_delay_ms=60_000)
    source = game_source(realism=realism)
    async with JsonlRecorder(path) as recorder:
        summary = await produce(source, recorder, RunConfig(rate=5000.0), stop=stop, clock=clock)
    # Stopped at 0.3 s of the run's clock: 1,500 events at 5,000 events/s, give or take a pacing tick (25 events).
    assert 1475 <= summary.generated <= 1525
    assert len(path.read_bytes().splitlines()) == summary.generated == summary.sent
    assert summary.out_of_order > 0


def test_run_config_rejects_both_bounds() -> None:
    with pytest.raises(ValueError, match="either a count or a duration"):
        RunConfig(count=10, duration_s=1.0)


class ChunkCountingRecorder(JsonlRecorder):
    """A real JSONL recorder that also records when (on ``clock``) it is handed each chunk, and its size."""

    def __init__(self, path: Path, clock: VirtualClock) -> None:
        super().__init__(path)
        self.clock = clock
        self.chunks: list[tuple[float, int]] = []

    async def send(self, records: Sequence[Record]) -> None:
        self.chunks.append((self.clock.now(), len(records)))
        await super().send(records)


async def test_a_schedule_that_began_before_the_call_sends_what_fell_due_at_once(tmp_path: Path) -> None:
    # The demo fixes its events' times when it builds the generator, before the Kafka producer has started: the
    # schedule (and so each event's time) began then, and the events due since go out at once, not 50 ms late
    # each for the rest of the run (a freshness profile of the demo found every event sent 51 ms after its time).
    clock = VirtualClock()
    recorder = ChunkCountingRecorder(tmp_path / "late-start.jsonl", clock)
    async with recorder:
        summary = await produce(
            game_source(rate=4000.0), recorder, RunConfig(rate=4000.0, count=4000), clock=clock, started_ago_s=0.05
        )
    assert recorder.chunks[0] == (0.0, 200)  # 50 ms at 4,000 events/s, due when the call came
    sent = 0
    for at_s, size in recorder.chunks:
        sent += size
        assert sent <= (at_s + 0.05) * 4000.0 + 1e-6  # never ahead of the schedule...
        assert sent >= (at_s + 0.05) * 4000.0 - 20  # ...nor behind it by more than a tick
    assert summary.acknowledged == 4000


@pytest.mark.parametrize(("tick_ms", "min_chunk"), [(5.0, 20), (50.0, 200)])
async def test_the_pacing_tick_sets_the_smallest_paced_chunk_and_keeps_the_rate(
    tmp_path: Path, tick_ms: float, min_chunk: int
) -> None:
    clock = VirtualClock()
    recorder = ChunkCountingRecorder(tmp_path / "ticked.jsonl", clock)
    async with recorder:
        summary = await produce(
            game_source(rate=4000.0),
            recorder,
            RunConfig(rate=4000.0, count=2000, pacing_tick_ms=tick_ms),
            clock=clock,
        )
    sizes = [size for _, size in recorder.chunks]
    assert summary.acknowledged == sum(sizes) == 2000
    # Every wake-up but the last (the run's remainder) sends at least a tick's worth of events.
    assert min(sizes[:-1]) >= min_chunk
    assert len(sizes) <= 2000 // min_chunk + 1
    assert summary.elapsed_s == pytest.approx(0.5, abs=1e-6)
