import subprocess
import sys

import pytest

pytestmark = pytest.mark.unit


def in_fresh_interpreter(code: str) -> None:
    """Run ``code`` in a new Python: freezing and unfreezing are process-wide, and in the test session's own
    process the unfreeze at quiet_gc's exit released every object earlier tests had frozen (the analytics engine
    freezes the heap when it starts), so their leftovers were finalized inside the next test (an unclosed Kafka
    client's ResourceWarning failed tests/unit/producers/test_generators.py in CI, twice)."""
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_quiet_gc_freezes_raises_the_threshold_and_restores_both() -> None:
    in_fresh_interpreter(
        """
import gc
from producers import quiet_gc

before = gc.get_threshold()
frozen_before = gc.get_freeze_count()
with quiet_gc(4096):
    assert gc.get_threshold()[0] >= 4 * 4096
    assert gc.get_threshold()[1:] == before[1:]
    assert gc.get_freeze_count() > frozen_before
assert gc.get_threshold() == before
assert gc.get_freeze_count() == 0
"""
    )


def test_quiet_gc_still_collects_cycles_once_enough_accumulate() -> None:
    code = """
import gc
from producers import quiet_gc

class Node:
    def __init__(self):
        self.me = self

with quiet_gc(16):
    collected_before = sum(s["collected"] for s in gc.get_stats())
    for _ in range(50_000):  # cycles only the collector frees, well past the raised threshold
        Node()
    assert sum(s["collected"] for s in gc.get_stats()) > collected_before
"""
    in_fresh_interpreter(code)
