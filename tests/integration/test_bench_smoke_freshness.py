"""The freshness profile runs end to end at a small scale: every stage measured, the parts adding up to the
freshness, the table and the plot (shape only, never a speed)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.bench import benchmark_output
from tests.support.endpoints import Endpoints

PARTS = (
    "1 events reach the engine (read_at - newest event)",
    "2 engine computes (emitted_at - read_at)",
    "3 served after emission (poll - emitted_at)",
)


async def test_freshness_profile_splits_the_served_leaderboards_freshness_into_stages(
    endpoints: Endpoints, tmp_path: Path
) -> None:
    png = tmp_path / "profile.png"
    arguments = ("--minutes", "0.3", "--game-rate", "300", "--poll-every", "0.1", "--plot", str(png))
    document, err = await benchmark_output(
        "freshness_profile.py", *arguments, env=endpoints.settings_env(), timeout_s=300
    )
    assert document["benchmark"] == "freshness_profile"
    stages = document["stages"]
    assert stages["_polls_matched"]["matched"] > 0
    for name in ("freshness", *PARTS, "1a producer: event_time to Kafka timestamp", "gap between emissions"):
        assert stages[name]["count"] > 0, name
    total = sum(stages[name]["mean_ms"] for name in PARTS)
    assert total == pytest.approx(stages["freshness"]["mean_ms"], abs=0.3)  # each rounded to 0.1 ms
    assert document["source_timestamp_type"].startswith("CreateTime")
    assert "engine computes" in err  # the table
    assert png.read_bytes().startswith(b"\x89PNG")
