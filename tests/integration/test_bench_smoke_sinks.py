"""The sinks benchmark still runs: a tiny run, checking the shape of its JSON only (never a speed)."""

from __future__ import annotations

from tests.support.bench import run_benchmark
from tests.support.endpoints import Endpoints


async def test_sinks_benchmark_prints_its_json(endpoints: Endpoints) -> None:
    arguments = ("--events", "3000", "--partitions", "2")
    result = await run_benchmark("sinks_throughput.py", *arguments, env=endpoints.settings_env())
    assert result["benchmark"] == "sinks_throughput"
    assert result["events"] == 3000
    assert set(result["ceiling"]) == {"seconds", "events_per_s"}
    assert {"seconds", "events_per_s", "objects", "parquet_mib", "flush_reasons", "failed"} <= set(result["sink"])
    assert {"ratio_to_ceiling", "peak_pss_mib", "peak_rss_sum_mib", "memory_budget_mib", "landed"} <= set(result)
    assert set(result["peak_pss_by_process_mib"]) == {"sink", "worker"}
    assert set(result["cpu_us_per_event"]) == {"ceiling", "sink", "worker"}
    assert result["landed"] == {"rows": 3000, "objects": result["landed"]["objects"], "exactly_once": True}
