"""Realism injected after generation: out-of-order delivery and malformed records.

Both draw from their own seeded random stream, so a seed reproduces them exactly too.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import random
from collections import Counter
from datetime import datetime, timedelta

import orjson

from producers.config import RealismConfig
from producers.generators.base import Event, Record

#: The shapes of malformed records, each exercising a different error path downstream.
MALFORMED_KINDS = ("bad_json", "missing_field", "wrong_type", "oversized")
_REQUIRED = ("event_id", "event_type", "event_time")
#: How a serialized event gives its event time away: ``"event_time":"`` then 24 characters then ``"``.
_TIME_MARKER = b'"event_time":"'
_TIME_START = len(_TIME_MARKER)
_TIME_END = _TIME_START + len("2026-11-27T08:00:00.123Z")
_QUOTE = ord('"')


class Disorder:
    """Holds back a share of events by a random event-time delay, so they arrive after later events.

    A held event is released just before the first event whose event time is at or past its own plus the delay.
    ISO-8601 timestamps of one format compare as strings in time order, so only held events are ever parsed.
    """

    def __init__(self, config: RealismConfig, rng: random.Random) -> None:
        self._ratio = config.out_of_order_ratio
        self._mean_ms = config.out_of_order_mean_delay_ms
        self._max_ms = config.out_of_order_max_delay_ms
        self._rng = rng
        self._held: list[tuple[str, int, Event]] = []
        self._held_records: list[tuple[bytes, int, Record]] = []
        self._tie = itertools.count()
        self.delayed = 0

    def apply(self, events: list[Event]) -> list[Event]:
        if self._ratio == 0.0 and not self._held:
            return events
        out: list[Event] = []
        held, rng_random, ratio = self._held, self._rng.random, self._ratio
        for event in events:
            at = event["event_time"]
            while held and held[0][0] <= at:
                out.append(heapq.heappop(held)[2])
            if ratio and rng_random() < ratio:
                self.delayed += 1
                delay = min(self._rng.expovariate(1.0 / self._mean_ms), self._max_ms)
                heapq.heappush(held, (_release_time(at, delay), next(self._tie), event))
            else:
                out.append(event)
        return out

    def apply_records(self, records: list[Record]) -> list[Record]:
        """:meth:`apply` for serialized events: the same draws in the same order, so the same records in the same order.

        Two passes instead of one, because neither the draws nor the releases need every event's time. First the
        draws (one per record, and the delay of each delayed one), which do not depend on the times. Then the runs of
        records between two delayed ones go out as slices, and each held record is released where a binary search
        on event time puts it: events come in non-decreasing event time (the ``EventGenerator`` contract), so
        the first record at or past a release time is found by reading a dozen times, not every one. A time is
        sliced out of the bytes after its marker (:func:`record_time`), and the release times held are bytes too
        (ASCII compares the same as bytes and as text).
        """
        held = self._held_records
        if self._ratio == 0.0 and not held:
            return records
        rng_random, ratio, n = self._rng.random, self._ratio, len(records)
        delays: list[tuple[int, float]] = []
        if ratio:
            expovariate, rate, max_ms = self._rng.expovariate, 1.0 / self._mean_ms, self._max_ms
            for i in range(n):
                if rng_random() < ratio:
                    delays.append((i, min(expovariate(rate), max_ms)))
        if not delays and not held:
            return records
        out: list[Record] = []
        start = 0
        heappop, bisect_left = heapq.heappop, bisect.bisect_left
        # Each delayed record ends a run; the last run ends with the chunk. At a delayed record the dict path
        # releases what is due before holding it, so its time is checked too.
        for stop, delay in [*delays, (n, 0.0)]:
            stop_time = record_time(records[stop]) if stop < n else None
            while held:
                due = held[0][0]
                j = bisect_left(records, due, start, stop, key=record_time)
                if j == stop and (stop_time is None or stop_time < due):
                    break
                out.extend(records[start:j])
                start = j
                out.append(heappop(held)[2])
            out.extend(records[start:stop])
            if stop_time is not None:
                self.delayed += 1
                release = _release_time(stop_time.decode(), delay).encode()
                heapq.heappush(held, (release, next(self._tie), records[stop]))
            start = stop + 1
        return out

    def flush(self) -> list[Event]:
        """Every event still held by :meth:`apply`, in release order (the end of a run)."""
        out = [item[2] for item in sorted(self._held)]
        self._held.clear()
        return out

    def flush_records(self) -> list[Record]:
        """Every record still held by :meth:`apply_records`, in release order (the end of a run)."""
        out = [item[2] for item in sorted(self._held_records)]
        self._held_records.clear()
        return out


def _release_time(at: str, delay_ms: float) -> str:
    """When an event of time ``at`` held back by ``delay_ms`` is released: at least a millisecond later."""
    release = datetime.fromisoformat(at) + timedelta(milliseconds=max(delay_ms, 1.0))
    return release.strftime("%Y-%m-%dT%H:%M:%S.") + f"{release.microsecond // 1000:03d}Z"


def record_time(record: Record) -> bytes:
    """The ``event_time`` of a serialized event, as UTF-8 bytes.

    Sliced from after the first ``"event_time":"`` when 24 characters and a quote follow it (how every
    :class:`RecordGenerator` writes it; a unit test holds them to it), so the record is not parsed; parsed otherwise.
    """
    value = record[1]
    found = value.find(_TIME_MARKER)
    if found >= 0 and len(value) > found + _TIME_END and value[found + _TIME_END] == _QUOTE:
        return value[found + _TIME_START : found + _TIME_END]
    return record_event_time(value)


def record_event_time(value: bytes) -> bytes:
    """The ``event_time`` of a serialized event as UTF-8 bytes, parsing the whole record (the slow way)."""
    at = orjson.loads(value)["event_time"]
    if not isinstance(at, str):
        raise TypeError(f"event_time must be a string, got {type(at).__name__}")
    return at.encode()


class Corruptor:
    """Replaces a share of serialized records with malformed ones; the Kafka key (partition key) is kept."""

    def __init__(self, config: RealismConfig, rng: random.Random, key_field: str) -> None:
        self._ratio = config.malformed_ratio
        self._oversized = config.oversized_bytes
        self._rng = rng
        self._key_field = key_field
        self.counts: Counter[str] = Counter()

    def should_corrupt(self) -> bool:
        return self._ratio > 0.0 and self._rng.random() < self._ratio

    def corrupt(self, event: Event) -> bytes:
        """A malformed record made from ``event``, of a randomly chosen kind."""
        kind = MALFORMED_KINDS[self._rng.randrange(len(MALFORMED_KINDS))]
        self.counts[kind] += 1
        return malformed(kind, event, self._rng, self._key_field, self._oversized)


def malformed(kind: str, event: Event, rng: random.Random, key_field: str, oversized_bytes: int) -> bytes:
    """``event`` spoiled in the way ``kind`` names (one of :data:`MALFORMED_KINDS`)."""
    if kind == "bad_json":
        text = orjson.dumps(event)
        # Cut inside the object and leave a stray byte, so no lenient parser can recover it.
        return text[: rng.randrange(1, len(text) - 1)] + b"\x00"
    if kind == "missing_field":
        spoiled = dict(event)
        del spoiled[rng.choice((*_REQUIRED, key_field))]
        return orjson.dumps(spoiled)
    if kind == "wrong_type":
        spoiled = dict(event)
        field = rng.choice(sorted(k for k in spoiled if k != key_field))
        value = spoiled[field]
        spoiled[field] = str(value) if isinstance(value, int | float) else {"unexpected": value}
        return orjson.dumps(spoiled)
    if kind == "oversized":
        return orjson.dumps({**event, "padding": "x" * oversized_bytes})
    raise ValueError(f"unknown malformed kind {kind!r}; expected one of {', '.join(MALFORMED_KINDS)}")
