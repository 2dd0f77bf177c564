"""A tiny run of the analytics benchmark so it does not rot: checks the JSON shape only, never a speed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_leaderboard_benchmark_prints_its_report(kafka_bootstrap: str) -> None:
    env = dict(os.environ, KEMU_KAFKA__BOOTSTRAP_SERVERS=kafka_bootstrap)
    command = [sys.executable, str(ROOT / "bench" / "analytics_leaderboard.py"), "--events", "3000"]
    command += ["--players", "50", "--span-minutes", "2", "--live-rate", "500", "--live-seconds", "3"]
    done = subprocess.run(command, env=env, capture_output=True, timeout=240, check=False, cwd=ROOT)
    assert done.returncode == 0, done.stderr.decode()[-2000:]
    report = json.loads(done.stdout)
    assert report["raw_consume"]["events"] >= 3000
    assert report["reader_consume"]["events"] == 3000
    assert report["kemu"]["events"] == 3000
    assert isinstance(report["kemu"]["events_per_s"], int)
    assert report["quix"]["events"] == 3000, report["quix"]
    assert set(report) >= {"kemu_vs_raw_consume", "kemu_vs_reader_consume", "kemu_vs_quix", "live"}
    live = report["live"]
    assert live["events"] > 0
    assert live["freshness_batches"] > 0
    assert live["freshness_p99_s"] is not None
    assert live["rss_samples"] >= 1
    assert "rss_mb_per_min_last_half" in live
