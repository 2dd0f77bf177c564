"""A tiny run of the scale-out benchmark so it does not rot: checks the JSON shape only, never a speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_scaleout_benchmark_prints_its_report(kafka_bootstrap: str) -> None:
    env = dict(os.environ, KEMU_KAFKA__BOOTSTRAP_SERVERS=kafka_bootstrap)
    command = [sys.executable, str(ROOT / "bench" / "analytics_scaleout.py"), "--events", "2000", "--partitions", "2"]
    command += ["--players", "50", "--span-minutes", "2", "--workers", "2", "--no-single"]
    done = subprocess.run(command, env=env, capture_output=True, timeout=300, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["events"] == 2000
    (run,) = report["runs"]
    assert run["workers"] == 2
    assert run["events"] == 2000
    assert isinstance(run["events_per_s_with_startup"], int)
    assert set(run) >= {"seconds", "events_per_s", "startup_seconds"}
