"""Benchmark: how cost grows with the work. Prints one JSON document (stdout), a table (stderr), writes a PNG plot.

    .venv/bin/python bench/cost_curves.py [--curves sink-partitions,sink-buffer] [--events 200000] [--repeat 3]
                                          [--seconds 5] [--plot docs/cost_curves.png] [--xs 1,4]
    .venv/bin/python bench/cost_curves.py --from-json results.json [more.json ...] --plot docs/cost_curves.png

Every curve measures, for each value of its parameter, a rate beside its ceiling in the same run, CPU microseconds per
unit of work and peak memory (PSS), and reports where the cost per unit grows faster than linearly
(``bench/curves.py``). It uses the Kafka and S3 named by the ``KEMU_*`` settings when given, else starts its own
embedded services once for all curves. ``--from-json`` plots saved documents again without measuring (the curves
of several runs in one plot, each run named in the subtitle).

A new curve (a one-hour run) is a :class:`bench.curves.Curve` in a module of its own,
listed in :data:`FAMILIES` with what its curves measure on. Not a test: nothing here asserts a speed.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import curves_analytics, curves_putrecords  # noqa: E402
from bench.curves import Curve, Point, plot, summarise, table  # noqa: E402
from bench.curves_sink import CURVES as SINK_CURVES  # noqa: E402
from bench.report import header, load_averages  # noqa: E402
from bench.sinks_throughput import endpoints  # noqa: E402

#: Curves by family, with what a family's curves measure on, made from the Kafka and S3 of the run.
FAMILIES: dict[str, tuple[list[Curve], Callable[[Any], AbstractContextManager[Any]]]] = {
    "sink": (SINK_CURVES, contextlib.nullcontext),
    "putrecords": (curves_putrecords.CURVES, curves_putrecords.services),
    "analytics": (curves_analytics.CURVES, curves_analytics.services),
}
DEFAULT_PLOT = ROOT / "docs" / "cost_curves.png"


def all_curves() -> dict[str, Curve]:
    return {curve.name: curve for curves, _ in FAMILIES.values() for curve in curves}


async def run(
    curves: list[Curve], options: dict[str, Any], repeat: int, xs: list[float] | None
) -> list[dict[str, Any]]:
    measured = []
    with endpoints() as base:
        for family, open_services in FAMILIES.values():
            chosen = [curve for curve in curves if curve in family]
            if not chosen:
                continue
            with open_services(base) as services:
                for curve in chosen:
                    measured.append(await measure_curve(curve, services, options, repeat, xs))
    return measured


async def measure_curve(
    curve: Curve, services: Any, options: dict[str, Any], repeat: int, xs: list[float] | None
) -> dict[str, Any]:
    points = [Point(x) for x in (xs or curve.xs)]
    for attempt in range(repeat):
        for point in points:
            print(f"{curve.name}: x={point.x:g} run {attempt + 1}/{repeat}", file=sys.stderr, flush=True)
            point.runs.append(await curve.measure(services, point.x, options))
    return summarise(curve, points)


def subtitle(document: dict[str, Any]) -> str:
    m = document["machine"]
    load = ", ".join(f"{x:g}" for x in m["load_average_at_start"])
    return (
        f"{document['date']} · {m['cpus']} CPUs · load average {load} at start · "
        f"{document['settings']['events']:,} events a sink or analytics run, "
        f"{document['settings'].get('seconds', 5):g} s of "
        f"PutRecords a point · medians of {document['settings']['repeat']}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--curves", default=",".join(all_curves()), help="comma-separated curve names")
    parser.add_argument("--events", type=int, default=200_000, help="events a run (sink and analytics curves)")
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of kemu's load a point (PutRecords curves)")
    parser.add_argument("--repeat", type=int, default=1, help="runs per point (medians are plotted)")
    parser.add_argument("--xs", help="measure only these parameter values (comma-separated), for every curve")
    parser.add_argument("--plot", type=Path, default=DEFAULT_PLOT, help="where the PNG goes")
    parser.add_argument(
        "--from-json", type=Path, nargs="+", help="plot saved JSON documents (one or more runs) instead of measuring"
    )
    args = parser.parse_args()
    if args.from_json is not None:
        documents = [json.loads(path.read_text()) for path in args.from_json]
        document = documents[0]
        if len(documents) > 1:
            document = {**document, "curves": [curve for d in documents for curve in d["curves"]]}
            document["runs"] = [subtitle(d) for d in documents]
    else:
        known = all_curves()
        names = [name.strip() for name in args.curves.split(",") if name.strip()]
        unknown = [name for name in names if name not in known]
        if unknown:
            sys.exit(f"error: unknown curve(s) {', '.join(unknown)}; known: {', '.join(known)}")
        xs = [float(x) for x in args.xs.split(",")] if args.xs else None
        document = {
            **header("cost_curves", load_average_at_start=load_averages()),
            "settings": {"events": args.events, "seconds": args.seconds, "repeat": args.repeat},
            "curves": [],
        }
        options = {"events": args.events, "seconds": args.seconds}
        document["curves"] = asyncio.run(run([known[name] for name in names], options, args.repeat, xs))
    plot(document["curves"], args.plot, " | ".join(document.get("runs", [subtitle(document)])))
    document["plot"] = str(args.plot)
    print(table(document["curves"]), file=sys.stderr)
    print(json.dumps(document, indent=2))


if __name__ == "__main__":
    main()
