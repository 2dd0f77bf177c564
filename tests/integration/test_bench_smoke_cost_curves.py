"""The cost-curve benchmark still runs: a tiny sink curve of two points, a PutRecords curve of one; its JSON and plot,
never a speed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path

from tests.support.endpoints import Endpoints

ROOT = Path(__file__).resolve().parents[2]


async def test_cost_curves_benchmark_prints_its_json_and_draws_its_plot(endpoints: Endpoints, tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), **endpoints.settings_env()}
    png = tmp_path / "curves.png"
    command = [str(ROOT / "bench" / "cost_curves.py"), "--curves", "sink-partitions,putrecords-size", "--xs", "1,2"]
    command += ["--events", "2000", "--seconds", "0.5", "--plot", str(png)]
    proc = await asyncio.create_subprocess_exec(
        sys.executable, *command, env=env, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    out, err = await asyncio.wait_for(proc.communicate(), 240)
    assert proc.returncode == 0, err.decode()[-2000:]
    document = json.loads(out)
    assert document["benchmark"] == "cost_curves"
    curve, put = document["curves"]
    assert curve["name"] == "sink-partitions"
    assert [point["x"] for point in curve["points"]] == [1.0, 2.0]
    for point in curve["points"]:
        assert point["rate"] > 0
        assert point["cost"] > 0
        assert point["memory_mib"] > 0
        assert [run["exactly_once"] for run in point["runs"]] == [True]
    assert len(curve["growth"]) == 1
    assert put["name"] == "putrecords-size"
    for point in put["points"]:  # records of 1 and 2 bytes are padded to the event's own size
        assert point["rate"] > 0
        assert point["ceiling"] > 0
        assert [run["records_failed"] for run in point["runs"]] == [0]
    assert "sink-partitions" in err.decode()  # the table
    assert png.read_bytes().startswith(b"\x89PNG")
