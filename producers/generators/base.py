"""What every generator shares: the event-time formatter, event ids, Zipf sampling, the generator protocol."""

from __future__ import annotations

import bisect
import itertools
import random
import time
from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

Event = dict[str, Any]
#: One record to write: ``(partition key, value)``; the value is a JSON event or a malformed one. A plain tuple,
#: not a NamedTuple: building one of those costs a third of a microsecond per event on the hot path.
Record = tuple[str, bytes]


class EventGenerator(Protocol):
    """Produces events in event-time order, in chunks (per-event calls cost too much at 100k events/s)."""

    #: The event field that is the Kinesis partition key (and the Kafka record key).
    key_field: str

    def next_chunk(self, n: int) -> list[Event]:
        """The next ``n`` events, in non-decreasing event time."""
        ...


@runtime_checkable
class RecordGenerator(Protocol):
    """A generator that can also give its events already serialized, skipping the dict and the JSON encoder.

    ``next_records(n)`` must give exactly ``[(e[key_field], orjson.dumps(e)) for e in next_chunk(n)]`` and advance
    the generator the same way, so a seed reproduces the same bytes whichever path a run takes. Realism reads each
    record's event time from after its first ``"event_time":"`` (24 characters, then a quote), so that must be the
    event's own field; a record where 24 characters and a quote do not follow is parsed instead.
    """

    key_field: str

    def next_chunk(self, n: int) -> list[Event]: ...

    def next_records(self, n: int) -> list[Record]: ...


class IsoMillis:
    """Formats epoch milliseconds as ``2026-11-27T08:00:00.123Z``, caching the part up to the second."""

    __slots__ = ("_prefix", "_second")

    def __init__(self) -> None:
        self._second = -1
        self._prefix = ""

    def __call__(self, epoch_ms: int) -> str:
        second, millis = divmod(epoch_ms, 1000)
        if second != self._second:
            self._second = second
            self._prefix = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        return f"{self._prefix}.{millis:03d}Z"


class EventIds:
    """Event ids ``<16 hex of the seeded run>-<sequence>``: unique within a run, reproducible with the seed."""

    __slots__ = ("_counter", "_prefix")

    def __init__(self, rng: random.Random) -> None:
        self._prefix = f"{rng.getrandbits(64):016x}-"
        self._counter = itertools.count()

    def __call__(self) -> str:
        return f"{self._prefix}{next(self._counter)}"


class ZipfSampler:
    """Draws ranks 0..n-1 with P(rank k) ∝ 1 / (k + 1) ** s, by bisection on the cumulative weights."""

    __slots__ = ("_cumulative", "_rng", "_total")

    def __init__(self, n: int, s: float, rng: random.Random) -> None:
        self._cumulative: list[float] = list(itertools.accumulate(1.0 / float(k + 1) ** s for k in range(n)))
        self._total = self._cumulative[-1]
        self._rng = rng

    def __call__(self) -> int:
        return bisect.bisect_right(self._cumulative, self._rng.random() * self._total)

    def probability(self, rank: int) -> float:
        """Exact probability of ``rank``, for tests of the sampled frequencies."""
        before = self._cumulative[rank - 1] if rank > 0 else 0.0
        return (self._cumulative[rank] - before) / self._total


class WeightedChoice:
    """Draws one of ``items`` with the given relative weights (a small table, sampled in O(log n))."""

    __slots__ = ("_cumulative", "_items", "_rng", "_total")

    def __init__(self, items: Sequence[Any], weights: Sequence[float], rng: random.Random) -> None:
        if len(items) != len(weights) or not items:
            raise ValueError("items and weights must be non-empty and of equal length")
        self._items = list(items)
        self._cumulative = list(itertools.accumulate(weights))
        self._total = self._cumulative[-1]
        self._rng = rng

    def __call__(self) -> Any:
        return self._items[bisect.bisect_right(self._cumulative, self._rng.random() * self._total)]
