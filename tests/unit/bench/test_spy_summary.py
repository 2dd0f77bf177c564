"""py-spy's raw samples summarised: idle samples left out, each function counted once per sample it is in."""

from __future__ import annotations

import pytest

from bench.spy_summary import frame_name, summarise

pytestmark = pytest.mark.unit

RAW = [
    "thread (1);run (runner.py:10);process (operator.py:20);arrow (duck.py:5) 6\n",
    "thread (1);run (runner.py:10);process (operator.py:21) 2\n",
    "thread (2);_bootstrap (threading.py:1);_worker (concurrent/futures/thread.py:83) 10\n",  # an idle pool thread
    "thread (1);run (runner.py:10);recurse (a.py:1);recurse (a.py:2) 2\n",
    "\n",
]


def test_idle_samples_are_left_out_and_shares_are_inclusive() -> None:
    total, busy, inclusive = summarise(RAW)
    assert (total, busy) == (20, 10)
    assert inclusive["run (runner.py)"] == 10
    assert inclusive["process (operator.py)"] == 8  # two lines of one function count together
    assert inclusive["arrow (duck.py)"] == 6
    assert inclusive["recurse (a.py)"] == 2  # on the stack twice in a sample, counted once
    assert "_worker (concurrent/futures/thread.py)" not in inclusive


def test_a_frame_is_named_without_its_line() -> None:
    assert frame_name("fetch (analytics/reader.py:190)") == "fetch (analytics/reader.py)"
    assert frame_name("thread (8310)") == "thread (8310)"
