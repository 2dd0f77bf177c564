"""A tiny run of the scale-out benchmark so it does not rot: checks the JSON shape only, never a speed."""

from __future__ import annotations

from tests.support.bench import run_benchmark


async def test_scaleout_benchmark_prints_its_report(kafka_bootstrap: str) -> None:
    arguments = ("--events", "2000", "--partitions", "2", "--players", "50", "--span-minutes", "2", "--workers", "2")
    env = {"KEMU_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap}
    report = await run_benchmark("analytics_scaleout.py", *arguments, "--no-single", env=env, timeout_s=300)
    assert report["events"] == 2000
    (run,) = report["runs"]
    assert run["workers"] == 2
    assert run["events"] == 2000
    assert isinstance(run["events_per_s_with_startup"], int)
    assert set(run) >= {"seconds", "events_per_s", "startup_seconds"}
