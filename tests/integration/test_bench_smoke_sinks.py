"""The sinks benchmark still runs: a tiny run, checking the shape of its JSON only (never a speed)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


async def test_sinks_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **endpoints.settings_env()}
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "sinks_throughput.py"),
        "--events",
        "3000",
        "--partitions",
        "2",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out)
    assert result["benchmark"] == "sinks_throughput"
    assert result["events"] == 3000
    assert set(result["ceiling"]) == {"seconds", "events_per_s"}
    assert {"seconds", "events_per_s", "objects", "parquet_mib", "flush_reasons", "failed"} <= set(result["sink"])
    assert {"ratio_to_ceiling", "peak_pss_mib", "peak_rss_sum_mib", "memory_budget_mib", "landed"} <= set(result)
    assert set(result["peak_pss_by_process_mib"]) == {"sink", "worker"}
    assert set(result["cpu_us_per_event"]) == {"ceiling", "sink", "worker"}
    assert result["landed"] == {"rows": 3000, "objects": result["landed"]["objects"], "exactly_once": True}
