"""The current time in epoch milliseconds is one function, ``foundation.now_ms``: an inline ``time.time() * 1000``
elsewhere is a copy of the rule (and a float one, whose rounding differs from ``time_ns() // 1_000_000``)."""

from __future__ import annotations

import re

from tests.support.one_source import written_outside

#: Epoch milliseconds computed from the wall clock in place.
INLINE = re.compile(r"time\.time\(\)\s*\*\s*(1_?000|1e3)\b|time\.time_ns\(\)\s*//\s*1_?000_?000\b")


def test_epoch_milliseconds_come_from_foundation_now_ms_only() -> None:
    copies = written_outside(INLINE, "foundation/clock.py")
    assert not copies, "epoch milliseconds computed outside foundation.now_ms: " + ", ".join(copies)
