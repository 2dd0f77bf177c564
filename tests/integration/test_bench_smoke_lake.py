"""The lake benchmark still runs: a tiny run, checking the shape of its JSON and that both engines agree (never a
speed)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


async def test_lake_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **endpoints.settings_env(),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / "lake_query.py"), "--rows", "3000", "--partitions", "2", "--repeats", "1",
        env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out)
    assert result["benchmark"] == "lake_query"
    assert result["rows"] == 3000
    assert result["delivered"]["records"] == 3000
    assert result["crawl"]["status"] == "SUCCEEDED"
    assert len(result["athena_api"]["seconds"]) == len(result["duckdb_local"]["seconds"]) == 1
    assert result["same_rows"] is True
    assert result["result_rows"] == 40
