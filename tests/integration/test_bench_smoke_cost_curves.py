"""The cost-curve benchmark still runs: a tiny sink curve of two points, a PutRecords curve of one, the analytics
curves of one point each; its JSON and plot, never a speed."""

from __future__ import annotations

from pathlib import Path

from tests.support.bench import benchmark_output
from tests.support.endpoints import Endpoints


async def test_cost_curves_benchmark_prints_its_json_and_draws_its_plot(endpoints: Endpoints, tmp_path: Path) -> None:
    png = tmp_path / "curves.png"
    arguments = ("--curves", "sink-partitions,putrecords-size", "--xs", "1,2", "--events", "2000", "--seconds", "0.5")
    document, err = await benchmark_output(
        "cost_curves.py", *arguments, "--plot", str(png), env=endpoints.settings_env(), timeout_s=240
    )
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
    assert "sink-partitions" in err  # the table
    assert png.read_bytes().startswith(b"\x89PNG")


async def test_the_analytics_curves_measure_the_engine_beside_its_reader(endpoints: Endpoints, tmp_path: Path) -> None:
    png = tmp_path / "curves.png"
    arguments = ("--curves", "analytics-keys,analytics-queries", "--xs", "2", "--events", "2000")
    document, err = await benchmark_output(
        "cost_curves.py", *arguments, "--plot", str(png), env=endpoints.settings_env(), timeout_s=300
    )
    keys, queries = document["curves"]
    assert [keys["name"], queries["name"]] == ["analytics-keys", "analytics-queries"]
    for curve in (keys, queries):
        (point,) = curve["points"]
        assert point["rate"] > 0
        assert point["ceiling"] > 0
        assert point["cost"] > 0
        assert point["memory_mib"] > 0
        assert [run["events"] for run in point["runs"]] == [2000]
        assert [run["errors"] for run in point["runs"]] == [0]
    assert queries["points"][0]["runs"][0]["queries"] == ["leaderboard_1m", "leaderboard_rolling_10m"]
    assert "analytics-queries" in err
    assert png.read_bytes().startswith(b"\x89PNG")
