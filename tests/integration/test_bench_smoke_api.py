"""The API latency benchmark runs end to end and prints its JSON (shape only: this is not a timed test)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


def run_api_latency(endpoints: Endpoints, *options: str) -> dict[str, Any]:
    """``bench.api_latency`` with ``options`` against the session's services; its JSON once it exited cleanly."""
    completed = subprocess.run(
        [
            *(sys.executable, "-m", "bench.api_latency", "--warmup", "1"),
            *("--game-rate", "300", "--board-timeout", "150", *options),
        ],
        cwd=ROOT,
        env={**os.environ, **endpoints.settings_env()},
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr[-2000:]
    result: dict[str, Any] = json.loads(completed.stdout)
    return result


def test_api_latency_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    result = run_api_latency(endpoints, "--rate", "50", "--duration", "1", "--processes", "2")
    assert result["benchmark"] == "api_latency"
    assert result["completed"] == result["requests"] == 50  # 25 from each of the two generator processes
    assert result["generator_processes"] == 2
    assert result["non_200"] == 0
    for key in ("p50_ms", "p99_ms", "p99_from_schedule_ms", "rate_achieved"):
        assert isinstance(result[key], float)
    assert result["baseline_healthz"]["completed"] == 50
    assert result["baseline_healthz"]["generator_processes"] == 2
    assert isinstance(result["p99_ratio_to_healthz"], float)
    pipeline = result["pipeline"]
    assert pipeline["target_events_per_s"] == 300
    for key in ("produced_per_s_during_load", "engine_read_per_s_during_load"):
        assert isinstance(pipeline[key], float)
    for key in ("engine_lag_start", "engine_lag_end"):
        assert isinstance(pipeline[key], float)
    assert len(result["load_average_start"]) == 3


@pytest.mark.skipif(shutil.which("h2load") is None, reason="h2load (nghttp2-client) is not installed")
def test_api_latency_benchmark_runs_with_h2load_as_its_generator(endpoints: Endpoints) -> None:
    h2load = ("--generator", "h2load", "--connections", "4")
    result = run_api_latency(endpoints, "--rate", "40", "--duration", "2", *h2load)
    assert result["generator"].startswith("h2load")
    assert result["completed"] >= 70  # 4 clients x 10/s for 2 s; h2load drops the ones still in flight at the end
    assert result["non_200"] == 0
    assert isinstance(result["p99_ms"], float)
    assert result["p99_from_schedule_ms"] is None  # h2load cannot tell (bench/h2load.py)
    assert result["baseline_healthz"]["generator"].startswith("h2load")
