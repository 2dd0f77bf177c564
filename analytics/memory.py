"""Giving the heap's free memory back to the operating system, so a long live run's RSS stays flat.

Micro-batches allocate and free tens of MB at a time from several threads (the event loop's records, the worker's
decoding and DuckDB's results). glibc keeps freed chunks in its arenas for reuse and returns them to the system
only from the top of a heap, so after bursts (a catch-up batch, a stall on a busy machine) RSS stays at the high
water mark. ``malloc_trim`` releases the free pages of every arena; the live runner calls it after each checkpoint,
in the query's worker thread, about once a second. Elsewhere than glibc it does nothing.
"""

from __future__ import annotations

import ctypes
import sys
from collections.abc import Callable


def _malloc_trim() -> Callable[[int], int] | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return None
    trim: Callable[[int], int] | None = getattr(libc, "malloc_trim", None)  # musl has none
    return trim


_TRIM = _malloc_trim()


def release_free_memory() -> bool:
    """Return the allocator's free pages to the system; False where that is not available."""
    if _TRIM is None:
        return False
    _TRIM(0)
    return True
