"""The long-run benchmark runs end to end at a small scale: its JSON, table and plot (shape only, never a speed)."""

from __future__ import annotations

from pathlib import Path

from tests.support.bench import benchmark_output
from tests.support.endpoints import Endpoints


async def test_hour_run_benchmark_samples_every_process_and_the_served_leaderboard(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    png = tmp_path / "hour.png"
    arguments = ("--minutes", "0.4", "--game-rate", "300", "--sample-every", "3", "--poll-every", "0.5")
    arguments += ("--warmup-minutes", "0", "--window-minutes", "0.2", "--plot", str(png))
    document, err = await benchmark_output("hour_run.py", *arguments, env=endpoints.settings_env(), timeout_s=300)
    assert document["benchmark"] == "hour_run"
    processes = document["processes"]
    for component in ("kemu-up", "analytics", "producer-game", "sink-game-events-to-s3", "kinesis-api"):
        assert processes[component]["samples"] >= 3, sorted(processes)
        assert processes[component]["pss_mb_end"] > 0
        assert isinstance(processes[component]["flat"], bool)
    assert document["freshness_overall"]["polls"] > 0
    assert all(window["p99_s"] is not None for window in document["freshness"])
    assert document["pipeline"][0]["produced_per_s"] > 0
    assert "fresh p99" in err  # the table
    assert png.read_bytes().startswith(b"\x89PNG")
