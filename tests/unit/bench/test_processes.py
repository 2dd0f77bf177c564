"""``bench.processes``: the run's processes by role, and the CPU each used over a span."""

from __future__ import annotations

import subprocess
import sys

import psutil

from bench.processes import CpuSpan, processes_by_role

SPIN = "import time\nend = time.process_time() + 0.3\nwhile time.process_time() < end: pass"


def test_a_child_is_found_by_role_and_a_generator_run_inside_the_span_is_counted() -> None:
    sleeper = subprocess.Popen(["sleep", "30"])
    try:
        found = processes_by_role(psutil.Process())
        assert found["sleep"].pid == sleeper.pid
        span = CpuSpan(found)
        span.start()
        subprocess.run([sys.executable, "-c", SPIN], check=True)  # started, spun 0.3 s of CPU, reaped
        figures = span.stop()
    finally:
        sleeper.kill()
        sleeper.wait()
    cores = figures["cores_by_process"]
    assert isinstance(cores, dict)
    seconds = figures["seconds"]
    assert isinstance(seconds, float)
    generator = cores["started and ended inside (the load generator)"]
    assert generator * seconds >= 0.25  # the 0.3 s it spun (minus rounding), whatever the span's length
    assert cores["sleep"] == 0.0  # a sleeping process uses none
    busy = figures["cores_busy_machine"]
    assert isinstance(busy, float)
    assert busy > 0.0
