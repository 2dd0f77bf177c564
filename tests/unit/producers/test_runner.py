import asyncio
import time
from collections.abc import Sequence
from pathlib import Path

import orjson
import pytest

from producers import GeneratorConfig, JsonlSink, RealismConfig, Record, RecordSource, RunConfig, StreamKind, produce
from producers.generators import make_generator

pytestmark = pytest.mark.unit

START_MS = 1_795_000_000_000


def game_source(seed: int = 1, rate: float = 1000.0, realism: RealismConfig | None = None) -> RecordSource:
    config = GeneratorConfig(kind=StreamKind.GAME, seed=seed, start_time_ms=START_MS, events_per_second=rate)
    return RecordSource(make_generator(config), realism or RealismConfig(), seed)


async def test_count_bounds_the_run_and_every_event_is_recorded_one_per_line(tmp_path: Path) -> None:
    path = tmp_path / "out.jsonl"
    async with JsonlSink(path) as sink:
        summary = await produce(game_source(), sink, RunConfig(count=12_345, chunk_size=1000))
    lines = path.read_bytes().splitlines()
    assert len(lines) == 12_345 == summary.generated == summary.sent == summary.acknowledged
    assert summary.failed == 0
    assert all(orjson.loads(line)["player_id"].startswith("player-") for line in lines)


async def test_paced_run_keeps_the_rate(tmp_path: Path) -> None:
    progress = []
    async with JsonlSink(tmp_path / "paced.jsonl") as sink:
        started = time.monotonic()
        summary = await produce(
            game_source(rate=4000.0),
            sink,
            RunConfig(rate=4000.0, count=4000),
            on_progress=progress.append,
            progress_interval_s=0.2,
        )
        elapsed = time.monotonic() - started
    # 4,000 events at 4,000 events/s: not sooner than one second (the schedule is a floor; how much later a loaded
    # machine ends is not asserted).
    assert elapsed >= 0.99
    assert summary.acknowledged == 4000
    assert len(progress) >= 3
    assert [p.generated for p in progress] == sorted(p.generated for p in progress)


async def test_duration_bounds_the_run(tmp_path: Path) -> None:
    async with JsonlSink(tmp_path / "timed.jsonl") as sink:
        summary = await produce(game_source(), sink, RunConfig(rate=2000.0, duration_s=0.5))
    # The run ends at its deadline, not before; the schedule caps what it can have sent by then (0.5 s at 2,000/s).
    assert summary.elapsed_s >= 0.5
    assert 0 < summary.generated <= 1000


async def test_stop_event_ends_an_unbounded_run_and_held_events_are_flushed(tmp_path: Path) -> None:
    stop = asyncio.Event()
    path = tmp_path / "stopped.jsonl"
    realism = RealismConfig(out_of_order_ratio=0.3, out_of_order_mean_delay_ms=60_000, out_of_order_max_delay_ms=60_000)
    source = game_source(realism=realism)
    async with JsonlSink(path) as sink:
        asyncio.get_running_loop().call_later(0.3, stop.set)
        summary = await produce(source, sink, RunConfig(rate=5000.0), stop=stop)
    assert 500 < summary.generated < 3000
    assert len(path.read_bytes().splitlines()) == summary.generated == summary.sent
    assert summary.out_of_order > 0


def test_run_config_rejects_both_bounds() -> None:
    with pytest.raises(ValueError, match="either a count or a duration"):
        RunConfig(count=10, duration_s=1.0)


class ChunkCountingSink(JsonlSink):
    """A real JSONL sink that also records the size of each chunk it is handed."""

    def __init__(self, path: Path) -> None:
        super().__init__(path)
        self.chunks: list[int] = []

    async def send(self, records: Sequence[Record]) -> None:
        self.chunks.append(len(records))
        await super().send(records)


@pytest.mark.parametrize(("tick_ms", "min_chunk"), [(5.0, 20), (50.0, 200)])
async def test_the_pacing_tick_sets_the_smallest_paced_chunk_and_keeps_the_rate(
    tmp_path: Path, tick_ms: float, min_chunk: int
) -> None:
    sink = ChunkCountingSink(tmp_path / "ticked.jsonl")
    async with sink:
        started = time.monotonic()
        summary = await produce(
            game_source(rate=4000.0), sink, RunConfig(rate=4000.0, count=2000, pacing_tick_ms=tick_ms)
        )
        elapsed = time.monotonic() - started
    assert summary.acknowledged == sum(sink.chunks) == 2000
    # Every wake-up but the last (the run's remainder) sends at least a tick's worth of events.
    assert min(sink.chunks[:-1]) >= min_chunk
    assert len(sink.chunks) <= 2000 // min_chunk + 1
    # The schedule is a floor (event i is not sent before start + i/rate); how far past it a loaded machine ends is
    # not the test's business.
    assert elapsed >= 0.49
