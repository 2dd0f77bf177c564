"""The cost-curve scaffolding's pure parts: a curve's growth, its summary, the table and the plot file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bench.curves import SUPERLINEAR, Curve, Point, growth, plot, summarise, table

pytestmark = pytest.mark.unit


async def _never(services: Any, x: float, options: dict[str, Any]) -> dict[str, Any]:
    raise AssertionError("not measured here")


CURVE = Curve(name="demo", title="Demo", x_label="partitions", xs=(1, 4, 16), measure=_never)


def run(rate: float, cost: float) -> dict[str, Any]:
    return {"rate": rate, "ceiling": 2 * rate, "cost": cost, "ceiling_cost": 1.0, "memory_mib": 100.0}


def test_flat_cost_is_linear_and_a_cost_that_doubles_with_x_is_not() -> None:
    flat = growth([(1, 5.0), (4, 5.0), (16, 5.1)])
    assert [s["superlinear"] for s in flat] == [False, False]
    assert flat[0]["elasticity"] == 0.0
    rising = growth([(1, 5.0), (4, 5.0), (16, 20.0)])
    assert [s["superlinear"] for s in rising] == [False, True]
    assert rising[1]["elasticity"] == pytest.approx(1.0)
    assert growth([(1, None), (4, 5.0)])[0]["superlinear"] is None
    assert SUPERLINEAR > 0


def test_summary_takes_medians_of_repeated_runs_and_sorts_by_x() -> None:
    points = [Point(16, [run(90, 6.0)]), Point(1, [run(100, 5.0), run(300, 7.0), run(200, 6.0)])]
    summary = summarise(CURVE, points)
    assert [row["x"] for row in summary["points"]] == [1, 16]
    first = summary["points"][0]
    assert (first["rate"], first["ceiling"], first["ratio"], first["cost"]) == (200.0, 400.0, 0.5, 6.0)
    assert len(first["runs"]) == 3
    assert summary["growth"][0]["from"] == 1


def test_table_names_every_point_and_the_superlinear_segments(tmp_path: Path) -> None:
    summary = summarise(CURVE, [Point(1, [run(100, 5.0)]), Point(16, [run(20, 40.0)])])
    text = table([summary])
    assert "demo" in text
    assert "grows faster than linearly from 1 to 16" in text
    path = tmp_path / "curves.png"
    plot([summary], path, "test")
    assert path.read_bytes().startswith(b"\x89PNG")
