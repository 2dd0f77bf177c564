"""Benchmark: kemu's engine against Apache Flink (a PyFlink mini-cluster) on the same leaderboard, in one run.

Not a test; prints one JSON document. Both read the same N pre-loaded game events from the same local broker and
run the built-in ``leaderboard_1m`` (1-minute tumbling sum of points per player, top 10):

* kemu: the engine in this process until it has processed every event (``bench/analytics_leaderboard.py``'s
  phase, clock started once its reader is positioned);
* Flink: the job ``kemu analytics export --engine flink --bounded`` writes, run by PyFlink's mini-cluster
  (parallelism 1, as kemu's one query is one task). ``seconds`` runs from the job's submission to its end (the
  whole bounded read, every window closed and written); the JVM and mini-cluster start-up before it is reported
  apart.

    .venv/bin/python bench/analytics_flink.py --events 1000000
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import psutil

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from analytics import load_queries
from analytics.config import OutputTopics
from analytics.flink.job import JobOptions
from analytics.topics import ensure_topics
from bench.analytics_leaderboard import kemu_throughput, sources_toml
from bench.analytics_support import bootstrap_address, create_topic, delete_topics, preload
from emulator.flink.provision import provision_flink
from emulator.flink.runner import submit_command, write_job
from emulator.services.progress import SilentReporter


async def flink_throughput(bootstrap: str, topic: str, count: int, workdir: Path, parallelism: int) -> dict[str, Any]:
    query_dir = workdir / "queries-flink"
    query_dir.mkdir()
    (query_dir / "sources.toml").write_text(sources_toml(topic))
    query = load_queries([query_dir])["leaderboard_1m"]
    outputs = OutputTopics(*(f"{topic}-flink-{kind}" for kind in ("results", "alerts", "late", "errors")))
    await ensure_topics(bootstrap, [outputs.results, outputs.errors])
    options = JobOptions(bootstrap, outputs, bounded=True, parallelism=parallelism)
    runtime = provision_flink(Path.home() / ".cache" / "kemu", SilentReporter())
    job = write_job(query, options, workdir / "flink")
    began = time.monotonic()
    submitted = None
    process = await asyncio.create_subprocess_exec(
        *submit_command(runtime, job, None), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.DEVNULL
    )
    assert process.stdout is not None
    async for line in process.stdout:
        if line.startswith(b"submitted"):
            submitted = time.monotonic()
    code = await process.wait()
    ended = time.monotonic()
    if code != 0 or submitted is None:
        raise SystemExit(f"the Flink job failed (exit {code}); run {job} by hand to see why")
    return {
        "events": count,
        "parallelism": parallelism,
        "seconds": round(ended - submitted, 3),
        "events_per_s": round(count / (ended - submitted)),
        "startup_seconds": round(submitted - began, 3),
        "events_per_s_with_startup": round(count / (ended - began)),
        "output_topics": [outputs.results, outputs.errors],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--span-minutes", type=float, default=10.0)
    parser.add_argument("--flink-parallelism", type=int, default=1)
    args = parser.parse_args()
    bootstrap = bootstrap_address()
    report: dict[str, Any] = {
        "benchmark": "analytics_flink",
        "date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "machine": {"cpus": psutil.cpu_count(), "python": platform.python_version(), "load_avg": psutil.getloadavg()},
        "events": args.events,
        "partitions": args.partitions,
    }
    with tempfile.TemporaryDirectory(prefix="bench-flink-") as tmp:
        workdir = Path(tmp)
        topic = await create_topic(bootstrap, args.partitions, prefix="bench-flink")
        doomed = [topic]
        try:
            span_ms = int(args.span_minutes * 60_000)
            await preload(bootstrap, topic, args.partitions, args.events, args.players, span_ms)
            report["kemu"] = await kemu_throughput(bootstrap, topic, args.events, workdir)
            doomed += report["kemu"]["output_topics"]
            report["flink"] = await flink_throughput(bootstrap, topic, args.events, workdir, args.flink_parallelism)
            doomed += report["flink"]["output_topics"]
        finally:
            await delete_topics(bootstrap, doomed)
        report["kemu_vs_flink"] = round(report["kemu"]["events_per_s"] / report["flink"]["events_per_s"], 2)
        report["machine"]["load_avg_after"] = psutil.getloadavg()
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    asyncio.run(main())
