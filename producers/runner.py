"""One production run: generate, pace, hand to an outlet, report progress, and sum it up at the end."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from producers.config import RunConfig
from producers.kafka_publisher import SendStats
from producers.records import Record, RecordSource


class Clock(Protocol):
    """Time as the runner sees it: what paces a run and measures it. Tests pass one they advance themselves."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class MonotonicClock:
    """The real clock: ``time.monotonic`` and ``asyncio.sleep``."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class Outlet(Protocol):
    """Where records go: :class:`~producers.kafka_publisher.KafkaPublisher` (a topic) or
    :class:`~producers.jsonl_recorder.JsonlRecorder` (a file)."""

    stats: SendStats

    async def send(self, records: Sequence[Record]) -> None: ...

    async def flush(self) -> None: ...


@dataclass(frozen=True)
class Progress:
    """A snapshot while the run goes on."""

    elapsed_s: float
    generated: int
    sent: int
    acknowledged: int
    failed: int

    @property
    def events_per_s(self) -> float:
        return self.acknowledged / self.elapsed_s if self.elapsed_s > 0 else 0.0


@dataclass(frozen=True)
class Summary:
    """The end of a run: what was generated, sent, acknowledged, and how fast."""

    generated: int
    sent: int
    acknowledged: int
    failed: int
    out_of_order: int
    malformed: dict[str, int]
    elapsed_s: float
    events_per_s: float
    errors: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


async def produce(
    source: RecordSource,
    outlet: Outlet,
    run: RunConfig,
    *,
    on_progress: Callable[[Progress], None] | None = None,
    progress_interval_s: float = 1.0,
    stop: asyncio.Event | None = None,
    clock: Clock | None = None,
    started_ago_s: float = 0.0,
) -> Summary:
    """Produce until ``run``'s count or duration is reached, or ``stop`` is set; returns once all is flushed.

    Paced runs schedule event ``i`` at ``start + i / rate`` (cumulative, so the rate does not drift); unpaced runs
    send chunks as fast as the outlet accepts them. ``clock`` (the real one by default) paces and times the run.
    ``started_ago_s`` puts the start that long before the call, so that a paced run whose event times were fixed
    earlier (a generator's ``start_time_ms``) sends each event at its time: what fell due meanwhile goes at once.
    """
    clock = clock or MonotonicClock()
    started = clock.now() - max(0.0, started_ago_s)
    deadline = started + run.duration_s if run.duration_s is not None else None
    next_progress = started + progress_interval_s
    # A paced run sends at least this many events per wake-up, or fewer when the run ends.
    min_paced = max(1, int((run.rate or 0) * run.pacing_tick_ms / 1000.0))

    def snapshot() -> Progress:
        s = outlet.stats
        return Progress(clock.now() - started, source.generated, s.sent, s.acknowledged, s.failed)

    while stop is None or not stop.is_set():
        now = clock.now()
        if deadline is not None and now >= deadline:
            break
        remaining = run.count - source.generated if run.count is not None else run.chunk_size
        if remaining <= 0:
            break
        if run.rate is not None:
            due = int((now - started) * run.rate) - source.generated
            if due < min(min_paced, remaining):
                wake = started + (source.generated + min(min_paced, remaining)) / run.rate
                if deadline is not None:
                    wake = min(wake, deadline)
                await clock.sleep(max(0.0, wake - now))
                continue
            n = min(due, remaining, run.chunk_size)
        else:
            n = min(remaining, run.chunk_size)
        await outlet.send(source.next_records(n))
        if on_progress is not None and now >= next_progress:
            next_progress = now + progress_interval_s
            on_progress(snapshot())
        if run.rate is None:
            await asyncio.sleep(0)  # let acknowledgements and the progress display run
    held = source.drain()
    if held:
        await outlet.send(held)
    await outlet.flush()
    elapsed = clock.now() - started
    stats = outlet.stats
    if on_progress is not None:
        on_progress(snapshot())
    return Summary(
        generated=source.generated,
        sent=stats.sent,
        acknowledged=stats.acknowledged,
        failed=stats.failed,
        out_of_order=source.disorder.delayed,
        malformed=dict(source.corruptor.counts),
        elapsed_s=round(elapsed, 3),
        events_per_s=round(stats.acknowledged / elapsed, 1) if elapsed > 0 else 0.0,
        errors=dict(stats.errors),
    )
