"""The lake benchmark still runs: a tiny run, checking the shape of its JSON and that both engines agree (never a
speed)."""

from __future__ import annotations

from tests.support.bench import run_benchmark
from tests.support.endpoints import Endpoints


async def test_lake_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    arguments = ("--rows", "3000", "--partitions", "2", "--repeats", "1")
    result = await run_benchmark("lake_query.py", *arguments, env=endpoints.settings_env(), timeout_s=240)
    assert result["benchmark"] == "lake_query"
    assert result["rows"] == 3000
    assert result["delivered"]["records"] == 3000
    assert result["crawl"]["status"] == "SUCCEEDED"
    assert len(result["athena_api"]["seconds"]) == len(result["duckdb_local"]["seconds"]) == 1
    assert result["same_rows"] is True
    assert result["result_rows"] == 40
