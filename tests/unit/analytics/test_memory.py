"""Returning free heap memory to the system (glibc's malloc_trim)."""

from __future__ import annotations

import sys

from analytics.memory import release_free_memory


def test_release_free_memory_runs_where_glibc_is_present() -> None:
    blocks = [bytearray(64 << 10) for _ in range(200)]  # about 13 MB from malloc, then freed
    del blocks
    assert release_free_memory() is sys.platform.startswith("linux")
