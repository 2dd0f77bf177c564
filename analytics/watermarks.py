"""Event-time watermarks per source partition, with an idle timeout.

A partition's watermark is ``max(event_time seen) - out_of_orderness``. The query's watermark is the minimum over
partitions that are not idle (no record for ``idle_timeout`` of processing time); when every partition is idle it
is the maximum, so the last windows of a stream that went quiet still close. It never moves backwards.

A partition that still has unread records (a backlog, e.g. while catching up after a restart) is never idle,
however long ago its last record was read: idleness means that nothing arrives, not that we have not read it.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field

#: The watermark before any event: nothing is closed yet.
MIN_WATERMARK = -(2**62)


@dataclass
class WatermarkTracker:
    """Tracks per-partition maxima; ``now_ms`` is processing time, passed in so that replays are deterministic."""

    out_of_orderness_ms: int
    idle_timeout_ms: int
    max_event_ms: dict[int, int] = field(default_factory=dict)
    last_seen_ms: dict[int, int] = field(default_factory=dict)
    watermark: int = MIN_WATERMARK

    def assign(self, partitions: list[int], now_ms: int) -> None:
        """Declare the partitions read; one that never delivers a record counts as idle after the timeout."""
        for partition in partitions:
            self.last_seen_ms.setdefault(partition, now_ms)

    def observe(self, partition: int, max_event_ms: int | None, now_ms: int) -> None:
        """A batch of records arrived on ``partition`` (``max_event_ms`` is None when none had an event time)."""
        self.last_seen_ms[partition] = now_ms
        if max_event_ms is not None:
            self.max_event_ms[partition] = max(self.max_event_ms.get(partition, MIN_WATERMARK), max_event_ms)

    def advance(self, now_ms: int, busy: Collection[int] = ()) -> int:
        """Recompute the watermark at processing time ``now_ms`` and return it; ``busy`` partitions have unread
        records and so cannot be idle."""
        active: list[int] = []
        every: list[int] = []
        for partition, seen in self.last_seen_ms.items():
            mark = self.max_event_ms.get(partition, MIN_WATERMARK + self.out_of_orderness_ms) - self.out_of_orderness_ms
            every.append(mark)
            if partition in busy or now_ms - seen < self.idle_timeout_ms:
                active.append(mark)
        if active:
            candidate = min(active)
        elif every:
            candidate = max(every)
        else:
            candidate = MIN_WATERMARK
        self.watermark = max(self.watermark, candidate)
        return self.watermark

    def flush(self) -> int:
        """End of input (replay): every window may close."""
        self.watermark = 2**62
        return self.watermark

    def snapshot(self) -> dict[str, object]:
        return {
            "max_event_ms": {str(k): v for k, v in self.max_event_ms.items()},
            "watermark": self.watermark,
        }

    def restore(self, snapshot: dict[str, object], now_ms: int) -> None:
        """Back to a checkpointed state; idle clocks restart at ``now_ms`` (processing time is not checkpointed)."""
        maxima = snapshot.get("max_event_ms", {})
        assert isinstance(maxima, dict)  # noqa: S101 - written by snapshot()
        self.max_event_ms = {int(k): int(v) for k, v in maxima.items()}
        self.last_seen_ms = {k: now_ms for k in self.max_event_ms}
        self.watermark = int(str(snapshot.get("watermark", MIN_WATERMARK)))
