"""The analytics engine's cost curves: events/s vs distinct keys on the leaderboard and vs the number of queries
reading one source, each point beside the engine's own reader doing nothing over the same events in the same run.

A point is two child processes over one pre-loaded topic: the reader ceiling (``analytics.reader`` fetching every
event and dropping it), then the engine (``AnalyticsEngine`` with the point's queries, checkpointing as live, until
every query has processed every event). Each child measures its own CPU time over its measured phase (all its
threads: the worker threads decode and run DuckDB); the parent samples the child's PSS. A fresh process per phase
keeps one point's memory out of the next one's figure.

Topics are pre-loaded once per number of players and reused by every point and curve that needs them; their event
times span :data:`SPAN_MINUTES`, so each one-minute window holds ``events / SPAN_MINUTES`` events.

    .venv/bin/python -m bench.curves_analytics --child engine --topic T --events N --queries leaderboard_1m
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import shutil
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from analytics import AnalyticsConfig, AnalyticsEngine, load_queries  # noqa: E402
from analytics.query_files import BUILTIN_QUERIES  # noqa: E402
from bench.analytics_leaderboard import reader_ceiling, sources_toml  # noqa: E402
from bench.analytics_support import create_topic, delete_topics, preload  # noqa: E402
from bench.curves import Curve  # noqa: E402
from bench.sinks_throughput import TreeUsage  # noqa: E402
from sinks import S3Connection  # noqa: E402

PARTITIONS = 4
#: The players of the queries curve (the leaderboard benchmark's default).
PLAYERS = 10_000
#: Event times of a pre-loaded topic cover this many minutes: with the one-minute leaderboard, each window holds a
#: half of the events, so a window sees most of a large key space.
SPAN_MINUTES = 2.0
#: The built-in queries that read ``game-events``, in the order the queries curve adds them; beyond them, copies
#: (the same SQL under another name) stand for users' further queries on the same source.
GAME_QUERIES = ("leaderboard_1m", "leaderboard_rolling_10m")


@dataclass
class Services:
    """The broker, and the topics pre-loaded so far (players -> topic), deleted when the family is done."""

    bootstrap: str
    topics: dict[tuple[int, int], str] = field(default_factory=dict)

    async def topic(self, players: int, events: int) -> str:
        key = (players, events)
        if key not in self.topics:
            name = await create_topic(self.bootstrap, PARTITIONS, "bench-curves-analytics")
            print(f"  pre-loading {events:,} events of {players:,} players into {name}", file=sys.stderr, flush=True)
            await preload(self.bootstrap, name, PARTITIONS, events, players, int(SPAN_MINUTES * 60_000))
            self.topics[key] = name
        return self.topics[key]


@contextlib.contextmanager
def services(base: tuple[str, S3Connection, str]) -> Iterator[Services]:
    running = Services(base[0])
    try:
        yield running
    finally:
        if running.topics:
            # Called inside the benchmark's event loop, which a context manager cannot await: a thread runs its own.
            with ThreadPoolExecutor(max_workers=1) as pool:
                pool.submit(asyncio.run, delete_topics(running.bootstrap, list(running.topics.values()))).result()


def query_names(count: int) -> list[str]:
    """The first ``count`` queries of the curve: the built-ins of ``game-events``, then copies of them."""
    return [
        GAME_QUERIES[i % len(GAME_QUERIES)] + ("" if i < len(GAME_QUERIES) else f"_copy{i // len(GAME_QUERIES)}")
        for i in range(count)
    ]


def expected_keys_per_window(players: int, events: int) -> int:
    """Distinct players expected in one one-minute window (players drawn uniformly; nine events in ten score)."""
    scoring = 0.9 * events / SPAN_MINUTES
    return round(players * (1 - (1 - 1 / players) ** scoring))


async def _child(phase: str, bootstrap: str, topic: str, events: int, queries: list[str]) -> dict[str, Any]:
    """Run one phase in a child process and sample its PSS; the child prints its own figures as JSON."""
    command = [sys.executable, "-m", "bench.curves_analytics", "--child", phase, "--bootstrap", bootstrap]
    command += ["--topic", topic, "--events", str(events), "--queries", ",".join(queries)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    child = await asyncio.create_subprocess_exec(
        *command, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, env=env, cwd=ROOT
    )
    with TreeUsage(child.pid) as usage:
        out, err = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"analytics curve child ({phase}) failed: {err.decode()[-2000:]}")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    result["peak_pss_mib"] = round(usage.peak_pss / 2**20, 1)
    return result


async def _point(services: Services, players: int, queries: int, options: dict[str, Any]) -> dict[str, Any]:
    events = int(options["events"])
    topic = await services.topic(players, events)
    names = query_names(queries)
    ceiling = await _child("ceiling", services.bootstrap, topic, events, names)
    engine = await _child("engine", services.bootstrap, topic, events, names)
    return {
        "rate": engine["events_per_s"],
        "ceiling": ceiling["events_per_s"],
        "cost": engine["cpu_us_per_event"],
        "ceiling_cost": ceiling["cpu_us_per_event"],
        "memory_mib": engine["peak_pss_mib"],
        "ceiling_memory_mib": ceiling["peak_pss_mib"],
        "players": players,
        "expected_keys_per_window": expected_keys_per_window(players, events),
        "queries": names,
        "events": engine["events"],
        "errors": engine["errors"],
        "micro_batches": engine["micro_batches"],
    }


async def _by_keys(services: Any, x: float, options: dict[str, Any]) -> dict[str, Any]:
    return await _point(services, int(x), 1, options)


async def _by_queries(services: Any, x: float, options: dict[str, Any]) -> dict[str, Any]:
    return await _point(services, PLAYERS, int(x), options)


CURVES = [
    Curve(
        name="analytics-keys",
        title="Analytics leaderboard_1m vs distinct players (4 partitions)",
        x_label="players in the key space",
        xs=(10_000, 100_000, 1_000_000),
        measure=_by_keys,
        notes=f"Event times span {SPAN_MINUTES:g} minutes: each one-minute window holds half of the events; "
        "expected_keys_per_window says how many distinct players that is.",
    ),
    Curve(
        name="analytics-queries",
        title=f"Analytics: queries on one source ({PLAYERS:,} players)",
        x_label="queries reading game-events",
        xs=(1, 2, 4),
        measure=_by_queries,
        notes="1: leaderboard_1m; 2: every built-in query of game-events (with leaderboard_rolling_10m); 4: both and "
        "a copy of each under another name. The cost is per source event, so it grows with the queries that read it.",
    ),
]


# -- the child processes ---------------------------------------------------------------------------------------------


def _query_dir(workdir: Path, topic: str, names: list[str]) -> Path:
    """A query directory pointing ``game-events`` at ``topic``, with the copies ``names`` asks for."""
    directory = workdir / "queries"
    directory.mkdir()
    (directory / "sources.toml").write_text(sources_toml(topic))
    for name in names:
        if name not in GAME_QUERIES:
            original = name.rsplit("_copy", 1)[0]
            shutil.copyfile(BUILTIN_QUERIES / f"{original}.sql", directory / f"{name}.sql")
    return directory


async def _engine(bootstrap: str, topic: str, events: int, names: list[str]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench-curves-analytics-") as tmp:
        workdir = Path(tmp)
        compiled = load_queries([_query_dir(workdir, topic, names)])
        outputs = {kind: f"{topic}-{kind}" for kind in ("results", "alerts", "late", "errors")}
        config = AnalyticsConfig(
            checkpoint_dir=workdir / "checkpoints",
            results_topic=outputs["results"],
            alerts_topic=outputs["alerts"],
            late_events_topic=outputs["late"],
            errors_topic=outputs["errors"],
            progress_group_prefix="",
        )
        engine = AnalyticsEngine([compiled[name] for name in names], bootstrap, config)
        stop = asyncio.Event()
        task = asyncio.create_task(engine.run(stop))
        try:
            while len(engine.runners) < len(names) or any(r.consuming_since is None for r in engine.runners):
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            # Like the ceiling's, the clock starts once every reader is assigned and positioned.
            began, cpu_began = time.monotonic(), time.process_time()
            while any(runner.events < events for runner in engine.runners):
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            elapsed, cpu = time.monotonic() - began, time.process_time() - cpu_began
        finally:
            stop.set()
            await task
            await delete_topics(bootstrap, list(outputs.values()))
    return {
        "events": events,
        "seconds": round(elapsed, 3),
        "events_per_s": round(events / elapsed),
        "cpu_us_per_event": round(cpu / events * 1e6, 3),
        "errors": sum(runner.errors for runner in engine.runners),
        "micro_batches": sum(runner.batches for runner in engine.runners),
    }


async def _ceiling(bootstrap: str, topic: str, events: int) -> dict[str, Any]:
    cpu_began = time.process_time()
    result = await reader_ceiling(bootstrap, topic, PARTITIONS, events)
    result["cpu_us_per_event"] = round((time.process_time() - cpu_began) / events * 1e6, 3)
    return result


def child_main() -> None:
    parser = argparse.ArgumentParser(description="one phase of an analytics cost-curve point (a child process)")
    parser.add_argument("--child", choices=("ceiling", "engine"), required=True)
    parser.add_argument("--bootstrap", required=True)
    parser.add_argument("--topic", required=True)
    parser.add_argument("--events", type=int, required=True)
    parser.add_argument("--queries", required=True)
    args = parser.parse_args()
    if args.child == "ceiling":
        result = asyncio.run(_ceiling(args.bootstrap, args.topic, args.events))
    else:
        result = asyncio.run(_engine(args.bootstrap, args.topic, args.events, args.queries.split(",")))
    print(json.dumps(result))


if __name__ == "__main__":
    child_main()
