"""Generated records for the producer tests: every generator from one fixed start time, so runs repeat exactly."""

from __future__ import annotations

from producers import GeneratorConfig, RealismConfig, RecordSource, StreamKind
from producers.generators import make_generator

#: 2026-11-16, a fixed event time for the first record.
START_MS = 1_795_000_000_000


def record_source(kind: StreamKind, seed: int, rate: float, realism: RealismConfig | None = None) -> RecordSource:
    """``kind``'s records from ``START_MS`` at ``rate`` events a second, shaped by ``realism`` (none unless given)."""
    config = GeneratorConfig(kind=kind, seed=seed, start_time_ms=START_MS, events_per_second=rate)
    return RecordSource(make_generator(config), realism or RealismConfig(), seed)
