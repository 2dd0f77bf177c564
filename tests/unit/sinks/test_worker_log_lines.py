"""A write worker's log lines reach ``kemu up`` at their own level.

The worker shares its sink's stderr; under ``kemu up`` the sink's parent reads each line's first word as its level
(emulator/runtime/child_process.py). The worker's lines used to begin with the time, so each was taken for a
WARNING, an INFO line included.
"""

from __future__ import annotations

import logging

import pytest

from emulator.runtime.child_process import _LEVELS
from sinks.worker_main import LOG_FORMAT

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("level", [logging.DEBUG, logging.INFO, logging.WARNING, logging.ERROR])
def test_a_worker_line_starts_with_its_level(level: int) -> None:
    record = logging.LogRecord("sinks.worker_main", level, __file__, 1, "wrote %d objects", (3,), None)
    line = logging.Formatter(LOG_FORMAT).format(record)
    assert _LEVELS[line.split(" ", 1)[0]] == level
    assert line.endswith("sinks.worker_main: wrote 3 objects")
