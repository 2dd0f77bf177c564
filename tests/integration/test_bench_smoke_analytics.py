"""A tiny run of the analytics benchmark so it does not rot: checks the JSON shape only, never a speed."""

from __future__ import annotations

from tests.support.bench import run_benchmark


async def test_leaderboard_benchmark_prints_its_report(kafka_bootstrap: str) -> None:
    arguments = ("--events", "3000", "--players", "50", "--span-minutes", "2")
    arguments += ("--live-rate", "500", "--live-seconds", "3", "--breakdown")
    env = {"KEMU_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap}
    report = await run_benchmark("analytics_leaderboard.py", *arguments, env=env, timeout_s=240)
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
    breakdown = report["breakdown"]
    assert breakdown["events"] == 3000
    assert breakdown["decoded_columns"] == ["event_type", "event_time", "player_id", "points"]
    for part in ("reader", "decode", "decode_every_column", "query"):
        assert breakdown[f"{part}_cpu_us_per_event"] > 0, part
