"""Cost curves: what one point of a curve is, how a curve's growth is judged, the table and the plot. No I/O but the
plot file; the measurements live with each path (``bench/curves_sink.py``), the driver in ``bench/cost_curves.py``.

A curve varies one parameter of the work (partitions, buffer size, distinct keys, concurrent queries, record size)
and measures, at each value, a rate beside the rate of its own ceiling in the same run, a cost per unit of work (CPU
microseconds per event: much less sensitive to a busy machine than a rate) and the peak memory. Its *growth* is the
elasticity of the cost per unit between neighbouring points: ``Δ log(cost) / Δ log(x)``. Zero means the cost per
event does not depend on the parameter (the total grows linearly with the work); a positive value means it grows
faster than linearly, and the curve says so.
"""

from __future__ import annotations

import itertools
import math
import textwrap
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

#: How a curve measures one point: ``measure(services, x, options)``.
Measure = Callable[[Any, float, dict[str, Any]], Awaitable[dict[str, Any]]]
#: Above this elasticity, a segment of a curve is reported as growing faster than linearly.
SUPERLINEAR = 0.15


@dataclass(frozen=True)
class Curve:
    """One curve: its parameter's values and how to measure a point.

    ``measure(services, x, options)`` returns one flat dict of a run: at least ``rate`` (units/s), ``ceiling``
    (the ceiling's units/s in the same run, or None), ``cost`` (CPU µs per unit), ``ceiling_cost`` (the ceiling's, or
    None) and ``memory_mib``; anything else it returns is kept in the JSON.
    """

    name: str
    title: str
    x_label: str
    xs: tuple[float, ...]
    measure: Measure
    unit: str = "events"
    log_x: bool = True
    notes: str = ""


def sweeping(point: Callable[..., Awaitable[dict[str, Any]]], parameter: str, **fixed: int) -> Measure:
    """A curve's ``measure``: ``point(services, options=..., **fixed)`` with ``parameter`` set to the curve's x.

    A family of curves varies one parameter of the same measurement each and keeps the others at their defaults
    (partitions at a fixed buffer size, then buffer size at fixed partitions)."""

    async def measure(services: Any, x: float, options: dict[str, Any]) -> dict[str, Any]:
        return await point(services, options=options, **fixed, **{parameter: int(x)})

    return measure


@dataclass
class Point:
    """The runs of one value of a curve's parameter (several when repeated) and their median."""

    x: float
    runs: list[dict[str, Any]] = field(default_factory=list)

    def median(self, key: str) -> float | None:
        values = sorted(float(r[key]) for r in self.runs if r.get(key) is not None)
        if not values:
            return None
        mid = len(values) // 2
        return values[mid] if len(values) % 2 else (values[mid - 1] + values[mid]) / 2


def growth(points: list[tuple[float, float | None]]) -> list[dict[str, Any]]:
    """The elasticity of the cost per unit between each pair of neighbouring points (``(x, cost)``, sorted by x)."""
    segments = []
    for (x0, c0), (x1, c1) in itertools.pairwise(points):
        if c0 is None or c1 is None or c0 <= 0 or c1 <= 0 or x0 <= 0 or x1 <= x0:
            segments.append({"from": x0, "to": x1, "elasticity": None, "superlinear": None})
            continue
        elasticity = math.log(c1 / c0) / math.log(x1 / x0)
        segments.append(
            {"from": x0, "to": x1, "elasticity": round(elasticity, 3), "superlinear": elasticity > SUPERLINEAR}
        )
    return segments


def summarise(curve: Curve, points: list[Point]) -> dict[str, Any]:
    """The JSON of one measured curve: each point's median figures and runs, and the growth of its cost."""
    rows = []
    for point in sorted(points, key=lambda p: p.x):
        rate, ceiling = point.median("rate"), point.median("ceiling")
        rows.append(
            {
                "x": point.x,
                "rate": rate,
                "ceiling": ceiling,
                "ratio": round(rate / ceiling, 3) if rate is not None and ceiling else None,
                "cost": point.median("cost"),
                "ceiling_cost": point.median("ceiling_cost"),
                "memory_mib": point.median("memory_mib"),
                "runs": point.runs,
            }
        )
    return {
        "name": curve.name,
        "title": curve.title,
        "x_label": curve.x_label,
        "unit": curve.unit,
        "notes": curve.notes,
        "log_x": curve.log_x,
        "points": rows,
        "growth": growth([(row["x"], row["cost"]) for row in rows]),
    }


def _figure(value: float | None, digits: int = 0) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}"


def table(curves: list[dict[str, Any]]) -> str:
    """A plain-text table of every point of every curve (medians), with the growth of each segment."""
    header = f"{'curve':<18} {'x':>8} {'rate/s':>11} {'ceiling/s':>11} {'ratio':>6} {'CPU us/unit':>11} {'MiB':>7}"
    lines = [header, "-" * len(header)]
    for curve in curves:
        for row in curve["points"]:
            lines.append(
                f"{curve['name']:<18} {_figure(row['x']):>8} {_figure(row['rate']):>11} {_figure(row['ceiling']):>11}"
                f" {_figure(row['ratio'], 2):>6} {_figure(row['cost'], 2):>11} {_figure(row['memory_mib'], 1):>7}"
            )
        for segment in curve["growth"]:
            if segment["superlinear"]:
                lines.append(
                    f"{'':<18} cost per {curve['unit'][:-1]} grows faster than linearly from {segment['from']:g} to "
                    f"{segment['to']:g} (elasticity {segment['elasticity']})"
                )
    return "\n".join(lines)


def plot(curves: list[dict[str, Any]], path: Path, subtitle: str) -> None:
    """A PNG: per curve, the rate beside its ceiling (top) and the cost per unit and memory (bottom)."""
    import matplotlib

    matplotlib.use("Agg")  # files only: no display on a server or in CI
    import matplotlib.pyplot as plt

    # At most three curves side by side, each drawn as two panels one above the other, so that every family fits a
    # page that stays readable.
    columns = max(1, min(3, len(curves)))
    groups = max(1, math.ceil(len(curves) / columns))
    fig, axes = plt.subplots(2 * groups, columns, figsize=(5.0 * columns, 7.5 * groups), squeeze=False)
    for unused in range(len(curves), groups * columns):
        group, column = divmod(unused, columns)
        axes[2 * group][column].axis("off")
        axes[2 * group + 1][column].axis("off")
    for index, curve in enumerate(curves):
        rows = curve["points"]
        xs = [row["x"] for row in rows]
        group, column = divmod(index, columns)
        top, bottom = axes[2 * group][column], axes[2 * group + 1][column]
        top.plot(xs, [row["rate"] for row in rows], marker="o", label="kemu")
        if any(row["ceiling"] is not None for row in rows):
            top.plot(xs, [row["ceiling"] for row in rows], marker="s", linestyle="--", label="ceiling, same run")
        top.set_title(curve["title"], fontsize=10)
        top.set_ylabel(f"{curve['unit']}/s")
        top.set_ylim(bottom=0)
        top.legend(fontsize=8)
        bottom.plot(xs, [row["cost"] for row in rows], marker="o", color="tab:red", label="CPU µs per unit")
        if any(row.get("ceiling_cost") is not None for row in rows):
            bottom.plot(
                xs,
                [row.get("ceiling_cost") for row in rows],
                marker="s",
                linestyle="--",
                color="tab:orange",
                label="ceiling's CPU µs per unit",
            )
        bottom.legend(fontsize=8, loc="lower left")
        bottom.set_ylabel(f"CPU µs per {curve['unit'][:-1]}", color="tab:red")
        bottom.set_ylim(bottom=0)
        memory = bottom.twinx()
        memory.plot(xs, [row["memory_mib"] for row in rows], marker="^", color="tab:green", label="peak PSS")
        memory.set_ylabel("peak memory (PSS, MiB)", color="tab:green")
        memory.set_ylim(bottom=0)
        for axis in (top, bottom):
            axis.set_xlabel(curve["x_label"])
            axis.grid(True, alpha=0.3)
            if curve.get("log_x", True) and min(xs, default=1) > 0:
                axis.set_xscale("log")
                axis.set_xticks(xs, [f"{x:,.0f}" if x >= 10_000 else f"{x:g}" for x in xs])
                axis.minorticks_off()
    fig.suptitle(f"kemu cost curves\n{textwrap.fill(subtitle, 60 * columns)}", fontsize=10)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
