"""The Firehose benchmark still runs: a tiny run, checking the shape of its JSON only (never a speed)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


async def test_firehose_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        **endpoints.settings_env(),
    }
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        str(ROOT / "bench" / "firehose_put.py"),
        "--records",
        "1000",
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 120)
    assert proc.returncode == 0, err.decode()[-2000:]
    result = json.loads(out)
    assert result["benchmark"] == "firehose_put"
    assert result["records"] == 1000
    assert set(result["kinesis_put_records"]) == {"seconds", "records_per_s"}
    assert set(result["firehose_put_record_batch"]) == {"seconds", "records_per_s"}
    assert "ratio_to_kinesis" in result
    assert result["delivery"]["rows"] == 1000
    assert result["delivery"]["exactly_once"] is True
