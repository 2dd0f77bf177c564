"""Keeping Python's cyclic garbage collector out of a production run's hot loop, for processes that only produce.

A run allocates thousands of container objects per chunk (records, event dicts, heap entries) that are freed by
reference counting a moment later; the default gen-0 threshold (700) still triggers a collection every few hundred
events, and each older-generation collection walks the generator's long-lived state (the clickstream generator's
20,000 open sessions, for instance). Measured on a 300,000-event run, collection cost about 3 µs per clickstream
event and 0.3 µs per game event. Freezing the state built before the run moves it out of every collection, and a
gen-0 threshold above what one chunk allocates leaves collections to real reference cycles, which still
accumulate and so still trigger them: memory stays bounded.

The same holds for a delivery stream's consuming process: aiokafka builds a ``ConsumerRecord`` per record, and
collecting cost that process about 1 µs an event (0.2 s of its 1.45 s of CPU for 200,000 events of
``bench/sinks_throughput.py``), so ``kemu sink run`` runs under it too.

This changes interpreter-wide settings, so only a process dedicated to one component (the ``kemu produce`` and
``kemu sink run`` commands, the benchmarks' producer and sink children) should use it; the settings are restored on
exit.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

#: Headroom over one chunk's allocations (a record tuple and, with realism, an event dict per event).
_HEADROOM = 10_000


@contextmanager
def quiet_gc(chunk_size: int) -> Iterator[None]:
    """Freeze what exists now and raise the gen-0 threshold above one chunk's allocations, until the block ends."""
    thresholds = gc.get_threshold()
    gc.collect()  # so that only live objects are frozen
    gc.freeze()
    gc.set_threshold(max(thresholds[0], 4 * chunk_size + _HEADROOM), thresholds[1], thresholds[2])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
