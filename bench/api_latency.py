"""GET /leaderboards/{name} latency at a fixed request rate, from a separate load-generator process.

    .venv/bin/python -m bench.api_latency --rate 1000 --duration 30

The parent process runs the demo (the API with its Kafka results consumer, under the supervisor) plus a results
publisher writing contract records to Kafka at a steady rate, against the Kafka and S3 of the settings
(``KEMU_*``) or, if none, embedded ones it starts itself. A child process sends GETs open-loop at ``--rate``
(scheduled times, several keep-alive connections, a minimal HTTP/1.1 client so the client is not the bottleneck)
and reports percentiles, both from the moment each request was sent and from the moment it was due (the latter
includes any queueing of the generator itself). One JSON object is printed on stdout.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.cli.demo import configured_context  # the same resolution `kemu up` uses
from emulator.config.api import ServingSettings
from emulator.runtime.demo import Demo
from emulator.services import LocalServices
from emulator.settings import Settings
from tests.support.publisher import ResultsPublisher

BOARD = "top-players"
_T0 = time.monotonic()


def progress(message: str) -> None:
    """Phases on stderr (stdout carries only the JSON)."""
    print(f"[{time.monotonic() - _T0:6.1f} s] {message}", file=sys.stderr, flush=True)


# --- the system under test (parent process) ----------------------------------------------------------------------


@contextlib.contextmanager
def services(settings: Settings) -> Iterator[Settings]:
    """Kafka and S3 from the settings, or embedded ones started in a temporary run directory."""
    if settings.kafka.bootstrap_servers and settings.s3.endpoint_url:
        yield settings
        return
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as run_dir:
        launcher = LocalServices(settings.services, bucket=settings.s3.bucket, run_dir=Path(run_dir))
        with launcher as state:
            creds = launcher.credentials()
            s3 = settings.s3.model_copy(
                update={
                    "endpoint_url": state.minio.endpoint_url,
                    "access_key_id": creds.access_key_id,
                    "secret_access_key": creds.secret_access_key,
                }
            )
            kafka = settings.kafka.model_copy(update={"bootstrap_servers": state.kafka.bootstrap_servers})
            yield settings.model_copy(update={"s3": s3, "kafka": kafka})


async def run(args: argparse.Namespace) -> dict[str, Any]:
    with services(Settings.load()) as settings:
        suffix = uuid.uuid4().hex[:8]
        results_topic, alerts_topic = f"bench-api-results-{suffix}", f"bench-api-alerts-{suffix}"
        serving = ServingSettings(results_topic=results_topic, alerts_topic=alerts_topic, streams=(results_topic,))
        context = configured_context(settings.model_copy(update={"serving": serving, "log_level": "WARNING"}))
        if context is None:
            raise SystemExit("S3 credentials are missing: set KEMU_S3__ACCESS_KEY_ID and KEMU_S3__SECRET_ACCESS_KEY")
        bootstrap = context.kafka_bootstrap
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        try:
            await admin.create_topics([NewTopic(t, 1, 1) for t in (results_topic, alerts_topic)])
            publisher = ResultsPublisher(
                bootstrap,
                results_topic,
                alerts_topic,
                boards=(BOARD,),
                players=1000,
                top_n=100,
                records_per_s=args.publish_rate,
            )
            progress(f"starting the demo against Kafka {bootstrap}")
            demo = Demo(context, factories=[lambda _ctx: [publisher]], port=0)
            ready = asyncio.Event()
            task = asyncio.create_task(demo.run(on_ready=lambda _d: ready.set()))
            try:
                await asyncio.wait_for(ready.wait(), 60)
                progress(f"API at {demo.url}; waiting for the first results")
                for _ in range(600):  # the first results reach the view through Kafka
                    if demo.resources.view.board(BOARD) is not None:
                        break
                    await asyncio.sleep(0.1)
                await asyncio.sleep(args.warmup)
                applied_before = demo.resources.view.stats.results_applied
                progress(f"{args.rate:.0f} GET/s for {args.duration:.0f} s on /leaderboards/{BOARD}")
                load = await load_from_child(demo.url, f"/leaderboards/{BOARD}?limit={args.limit}", args)
                applied = demo.resources.view.stats.results_applied - applied_before
                # The peer measured in the same run: the same server answering its cheapest route.
                baseline = await load_from_child(demo.url, "/healthz", args) if args.baseline else None
            finally:
                progress("stopping")
                demo.stop()
                await asyncio.wait_for(task, 30)
                progress("stopped")
        finally:
            await admin.delete_topics([results_topic, alerts_topic])
            await admin.close()
    return {
        "benchmark": "api_latency",
        "endpoint": f"GET /leaderboards/{BOARD}?limit={args.limit}",
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
        "duration_s": args.duration,
        "connections": args.connections,
        "background_load": (
            f"test results publisher: {args.publish_rate} results records/s (top-100 of 1,000 players) through Kafka "
            "into the API's consumer; no producers/analytics/sink pipeline yet"
        ),
        "results_applied_during_run": applied,
        **load,
        "baseline_healthz": baseline,
        "p99_ratio_to_healthz": round(load["p99_ms"] / baseline["p99_ms"], 2) if baseline else None,
    }


async def load_from_child(url: str, path: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run the load generator in its own process (its CPU is not the server's event loop)."""
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.api_load",
        url,
        "--path",
        path,
        "--rate",
        str(args.rate),
        "--duration",
        str(args.duration),
        "--connections",
        str(args.connections),
        stdout=subprocess.PIPE,
    )
    out, _ = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(f"load generator exited with {child.returncode}")
    result: dict[str, Any] = json.loads(out)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rate", type=float, default=1000.0, help="GET requests per second")
    parser.add_argument("--duration", type=float, default=30.0, help="seconds of load")
    parser.add_argument("--connections", type=int, default=16, help="keep-alive connections of the generator")
    parser.add_argument("--limit", type=int, default=10, help="entries per answer")
    parser.add_argument("--publish-rate", type=float, default=20.0, help="results records/s written to Kafka")
    parser.add_argument("--warmup", type=float, default=1.0, help="seconds between start and load")
    parser.add_argument("--no-baseline", dest="baseline", action="store_false", help="skip the /healthz peer run")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(run(args)), indent=2))


if __name__ == "__main__":
    main()
