"""Scale-out of kemu's engine: events/s of the built-in leaderboard with 1, 2 and 3 worker processes, one run.

The same pre-loaded game events (a topic of ``--partitions`` partitions) are consumed by ``kemu analytics run
--query leaderboard_1m --workers N`` for each N, and, for reference, by the one-process engine (``kemu analytics run
--query leaderboard_1m``), each from the beginning with its own checkpoints, group and output topics. A run is timed
from its first committed offsets (every worker up and reading) to the moment the group's committed offsets cover the
whole topic; the start-up before is reported apart. Prints one JSON document; asserts no speed.

    python bench/analytics_scaleout.py --events 400000 --partitions 6
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analytics.scaleout import partials_topic
from bench.analytics_leaderboard import sources_toml
from bench.analytics_support import bootstrap_address, create_topic, delete_topics, preload


async def committed(bootstrap: str, group: str) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        offsets = await admin.list_consumer_group_offsets(group)
        return sum(meta.offset for meta in offsets.values() if meta.offset > 0)
    finally:
        await admin.close()


async def one_run(bootstrap: str, topic: str, count: int, workers: int | None, workdir: Path) -> dict[str, Any]:
    """``workers`` None: the one-process engine."""
    label = "single" if workers is None else f"w{workers}"
    run_dir = workdir / label
    (run_dir / "queries").mkdir(parents=True)
    (run_dir / "queries" / "sources.toml").write_text(sources_toml(topic))
    prefix = f"bench-scaleout-{uuid.uuid4().hex[:6]}-"
    outputs = {kind: f"{topic}-{label}-{kind}" for kind in ("results", "alerts", "late", "errors")}
    env = dict(os.environ)
    env.update(
        {
            "KEMU_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
            "KEMU_ANALYTICS__QUERY_DIRS": json.dumps([str(run_dir / "queries")]),
            "KEMU_ANALYTICS__CHECKPOINT_DIR": str(run_dir / "checkpoints"),
            "KEMU_ANALYTICS__PROGRESS_GROUP_PREFIX": prefix,
            "KEMU_ANALYTICS__RESULTS_TOPIC": outputs["results"],
            "KEMU_ANALYTICS__ALERTS_TOPIC": outputs["alerts"],
            "KEMU_ANALYTICS__LATE_EVENTS_TOPIC": outputs["late"],
            "KEMU_ANALYTICS__ERRORS_TOPIC": outputs["errors"],
        }
    )
    command = [sys.executable, "-m", "emulator", "analytics", "run", "--query", "leaderboard_1m"]
    if workers is not None:
        command += ["--workers", str(workers)]
    group = f"{prefix}leaderboard_1m"
    began = time.monotonic()
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE
    )
    first: tuple[float, int] | None = None
    done = 0
    try:
        while done < count:
            if process.returncode is not None:
                _, stderr = await process.communicate()
                raise SystemExit(f"{label} stopped: {stderr.decode()[-2000:]}")
            done = await committed(bootstrap, group)
            if first is None and done > 0:
                first = (time.monotonic(), done)
            await asyncio.sleep(0.2)
        ended = time.monotonic()
    finally:
        if process.returncode is None:
            process.terminate()
        await process.communicate()
    assert first is not None
    steady = ended - first[0]
    return {
        "workers": workers or 1,
        "engine": "one process" if workers is None else f"--workers {workers} (+ merge stage)",
        "events": count,
        "seconds": round(steady, 3),
        "events_per_s": round((count - first[1]) / steady) if steady > 0 else None,
        "startup_seconds": round(first[0] - began, 3),
        "events_per_s_with_startup": round(count / (ended - began)),
        "output_topics": [*outputs.values(), *([partials_topic(group)] if workers is not None else [])],
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--partitions", type=int, default=6)
    parser.add_argument("--players", type=int, default=10_000)
    parser.add_argument("--span-minutes", type=float, default=10.0)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 3])
    parser.add_argument("--no-single", action="store_true", help="skip the one-process engine's reference run")
    args = parser.parse_args()
    bootstrap = bootstrap_address()
    topic = await create_topic(bootstrap, args.partitions, "bench-scaleout")
    created = [topic]
    try:
        await preload(bootstrap, topic, args.partitions, args.events, args.players, int(args.span_minutes * 60_000))
        runs = []
        with tempfile.TemporaryDirectory(prefix="kemu-bench-scaleout-") as workdir:
            for workers in ([None] if not args.no_single else []) + list(args.workers):
                run = await one_run(bootstrap, topic, args.events, workers, Path(workdir))
                created += run.pop("output_topics")
                runs.append(run)
        scaled = {r["workers"]: r for r in runs if r["engine"] != "one process"}
        base = scaled.get(1, {}).get("events_per_s")
        efficiency = {
            str(n): round(r["events_per_s"] / (n * base), 3) for n, r in scaled.items() if base and r["events_per_s"]
        }
        report = {
            "benchmark": "analytics_scaleout",
            "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
            "events": args.events,
            "partitions": args.partitions,
            "runs": runs,
            "efficiency_vs_one_worker": efficiency,
        }
        print(json.dumps(report, indent=2))
    finally:
        await delete_topics(bootstrap, created)


if __name__ == "__main__":
    asyncio.run(main())
