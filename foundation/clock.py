"""The wall clock in the unit every Kafka timestamp, AWS API field and window of kemu uses: epoch milliseconds."""

from __future__ import annotations

import time


def now_ms() -> int:
    """Milliseconds since the epoch, now (integer arithmetic: no float rounding at this magnitude)."""
    return time.time_ns() // 1_000_000
