"""Benchmark: sustained events/s of each generator into a local Kafka broker from one process, acks=all.

For each generator, one worker process produces as fast as it can for ``--seconds`` into a fresh topic through
the real path (generate, realism off, orjson, MD5 shard, aiokafka batches, idempotent, acks=all) and reports
acknowledged events/s, CPU per event and its peak RSS. ``--out-of-order`` and ``--malformed`` turn realism on (the
demo uses 0.02 and 0.005); ``--compare-dict-path`` then also runs the worker on the dict path (events parsed into
dicts, delayed, spoiled and serialized again), the way every event went before the records path, and reports the
ratio of the two rates and CPU per event. In the same run, against the same broker, Kafka's own Java producer
(``org.apache.kafka.tools.ProducerPerformance``) sends as many records of the same mean size with the same acks and
idempotence, and the ratio of the two rates is reported. ``--rate`` paces the worker instead (as ``kemu up`` does,
whose game stream runs at 20,000 events/s) and reports the share of one core it used; the Java peer is then skipped.
Prints one JSON document.

    .venv/bin/python bench/producers_throughput.py [--seconds 20] [--partitions 4] [--kinds game,clickstream,iot]
                                                   [--bootstrap HOST:PORT] [--out-of-order 0.02 --malformed 0.005]
                                                   [--compare-dict-path] [--rate 20000 [--pacing-tick-ms 5]]

Without ``--bootstrap`` it starts its own embedded Kafka (and MinIO) in a temporary directory and stops it after.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from bench.analytics_support import delete_topics  # noqa: E402
from bench.report import header  # noqa: E402
from emulator.services import LocalServices  # noqa: E402
from emulator.services.kafka import kafka_classpath  # noqa: E402
from emulator.settings import ServicesSettings  # noqa: E402
from foundation.clock import now_ms  # noqa: E402
from producers import (  # noqa: E402
    GeneratorConfig,
    KafkaPublisher,
    KafkaPublisherConfig,
    RealismConfig,
    RecordSource,
    RunConfig,
    StreamKind,
    ensure_stream,
    make_generator,
    produce,
    quiet_gc,
)

JAVA_MIN_RECORDS = 500_000
JAVA_RESULT = re.compile(r"(\d+) records sent, ([\d.]+) records/sec \(([\d.]+) MB/sec\), ([\d.]+) ms avg latency")


def run_child(command: list[str]) -> tuple[str, float, float, float]:
    """Run ``command`` and reap it with ``wait4``: stdout, wall seconds, CPU seconds and peak RSS (MiB)."""
    started = time.monotonic()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        process = subprocess.Popen(command, stdout=out, stderr=err, text=True)
        _pid, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        wall = time.monotonic() - started
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read(), err.read()
    if process.returncode != 0:
        raise RuntimeError(f"{command[0]} exited with {process.returncode}: {stderr[-2000:]}")
    return stdout, wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss / 1024.0


def generator_config(kind: str) -> GeneratorConfig:
    return GeneratorConfig(kind=StreamKind(kind), seed=1, start_time_ms=now_ms(), events_per_second=1e5)


async def worker(
    kind: str,
    bootstrap: str,
    topic: str,
    seconds: float,
    realism: RealismConfig,
    records_path: bool,
    rate: float | None,
    pacing_tick_ms: float,
) -> dict[str, Any]:
    """One generator, as fast as possible, into ``topic``; runs in its own process so its RSS is its own."""
    sample = RecordSource(make_generator(generator_config(kind)), RealismConfig(), 1).next_records(5000)
    # The Java peer sends records of this size: the mean of well-formed events (realism's oversized ones excluded).
    mean_record_bytes = sum(len(value) for _, value in sample) / len(sample)
    source = RecordSource(make_generator(generator_config(kind)), realism, 1, records_path=records_path)
    run = RunConfig(duration_s=seconds, chunk_size=4096, rate=rate, pacing_tick_ms=pacing_tick_ms)
    # As `kemu produce` does: the worker only produces, so the collector is kept out of the hot loop.
    async with KafkaPublisher(KafkaPublisherConfig(bootstrap_servers=bootstrap), topic) as publisher:
        with quiet_gc(run.chunk_size):
            cpu_before = time.process_time()
            summary = await produce(source, publisher, run)
            cpu = time.process_time() - cpu_before
    return {
        **summary.as_dict(),
        "mean_record_bytes": round(mean_record_bytes, 1),
        # CPU of the production loop alone (interpreter start-up and imports excluded).
        "cpu_us_per_event": round(cpu / max(summary.acknowledged, 1) * 1e6, 2),
        "cpu_share_of_one_core": round(cpu / summary.elapsed_s, 3) if summary.elapsed_s > 0 else 0.0,
    }


def java_peer(classpath: str, bootstrap: str, topic: str, records: int, record_size: int) -> dict[str, Any]:
    command = [
        "java",
        "-Xmx512m",
        "-cp",
        classpath,
        "org.apache.kafka.tools.ProducerPerformance",
        "--topic",
        topic,
        "--num-records",
        str(records),
        "--record-size",
        str(record_size),
        "--throughput",
        "-1",
        "--producer-props",
        f"bootstrap.servers={bootstrap}",
        "acks=all",
        "enable.idempotence=true",
        "linger.ms=5",
        "batch.size=524288",
    ]
    stdout, wall, cpu, rss = run_child(command)
    last = [m for m in JAVA_RESULT.finditer(stdout)][-1]
    return {
        "records": int(last.group(1)),
        "events_per_s": float(last.group(2)),
        "mb_per_s": float(last.group(3)),
        "avg_latency_ms": float(last.group(4)),
        "wall_s": round(wall, 2),
        # The whole JVM, start-up and JIT included: there is no hook to time the send loop alone.
        "process_cpu_us_per_event": round(cpu / int(last.group(1)) * 1e6, 2),
        "peak_rss_mib": round(rss, 1),
        "record_size": record_size,
        "command": " ".join(command[3:]),
    }


def run_worker(
    kind: str, bootstrap: str, partitions: int, seconds: float, args: argparse.Namespace, *, dict_path: bool
) -> dict[str, Any]:
    """One worker process into a fresh topic: its summary, wall time, whole-process CPU per event and peak RSS."""
    topic = f"bench-producers-{kind}-{uuid.uuid4().hex[:8]}"
    asyncio.run(ensure_stream(bootstrap, topic, partitions))
    command = [sys.executable, __file__, "--worker", kind, "--bootstrap", bootstrap, "--topic", topic]
    command += ["--seconds", str(seconds), "--out-of-order", str(args.out_of_order), "--malformed", str(args.malformed)]
    if args.rate is not None:
        command += ["--rate", str(args.rate), "--pacing-tick-ms", str(args.pacing_tick_ms)]
    try:
        stdout, wall, cpu, rss = run_child([*command, "--dict-path"] if dict_path else command)
    finally:
        # Millions of records a run: on a shared broker (``kemu services up``) they would fill the disk.
        asyncio.run(delete_topics(bootstrap, [topic]))
    ours: dict[str, Any] = json.loads(stdout)
    ours.update(
        wall_s=round(wall, 2),
        process_cpu_us_per_event=round(cpu / max(ours["acknowledged"], 1) * 1e6, 2),
        peak_rss_mib=round(rss, 1),
    )
    return ours


def bench_kind(
    kind: str, bootstrap: str, partitions: int, seconds: float, classpath: str, args: argparse.Namespace
) -> dict[str, Any]:
    dict_side = None
    if args.compare_dict_path:
        dict_side = run_worker(kind, bootstrap, partitions, seconds, args, dict_path=True)
    ours = run_worker(kind, bootstrap, partitions, seconds, args, dict_path=False)
    result: dict[str, Any] = {"kemu": ours}
    if args.rate is None:  # a paced run is not a peer of the Java producer's flat-out one
        java_topic = f"bench-producers-java-{kind}-{uuid.uuid4().hex[:8]}"
        asyncio.run(ensure_stream(bootstrap, java_topic, partitions))
        # At least JAVA_MIN_RECORDS, so the JVM's warm-up does not dominate a short run.
        java_records = max(ours["acknowledged"], JAVA_MIN_RECORDS)
        try:
            java = java_peer(classpath, bootstrap, java_topic, java_records, round(ours["mean_record_bytes"]))
        finally:
            asyncio.run(delete_topics(bootstrap, [java_topic]))
        result["java_producer_perf"] = java
        result["ratio_events_per_s"] = round(ours["events_per_s"] / java["events_per_s"], 3)
    if dict_side is not None:
        result["kemu_dict_path"] = dict_side
        result["ratio_records_to_dict_path_events_per_s"] = round(ours["events_per_s"] / dict_side["events_per_s"], 3)
        result["ratio_records_to_dict_path_cpu_us_per_event"] = round(
            ours["cpu_us_per_event"] / dict_side["cpu_us_per_event"], 3
        )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--kinds", default="game,clickstream,iot")
    parser.add_argument("--bootstrap")
    parser.add_argument("--out-of-order", type=float, default=0.0, help="share of events delayed (demo: 0.02)")
    parser.add_argument("--malformed", type=float, default=0.0, help="share of records spoiled (demo: 0.005)")
    parser.add_argument(
        "--compare-dict-path",
        action="store_true",
        help="also run the worker on the dict path (before the records path)",
    )
    parser.add_argument("--rate", type=float, help="pace each worker at this many events/s (skips the Java peer)")
    parser.add_argument("--pacing-tick-ms", type=float, default=5.0, help="with --rate: the pacing tick")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--topic", help=argparse.SUPPRESS)
    parser.add_argument("--dict-path", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    realism = RealismConfig(out_of_order_ratio=args.out_of_order, malformed_ratio=args.malformed)
    load_at_start = os.getloadavg()[0]
    if args.worker:
        summary = asyncio.run(
            worker(
                args.worker,
                args.bootstrap,
                args.topic,
                args.seconds,
                realism,
                not args.dict_path,
                args.rate,
                args.pacing_tick_ms,
            )
        )
        print(json.dumps(summary))
        return
    settings = ServicesSettings()
    classpath = kafka_classpath(settings.cache_dir, settings.kafka_version)
    with tempfile.TemporaryDirectory(prefix="kemu-bench-producers-") as run_dir:
        services = None
        bootstrap = args.bootstrap
        if bootstrap is None:
            services = LocalServices(settings, bucket="kemu-bench", run_dir=Path(run_dir))
            bootstrap = services.start().kafka.bootstrap_servers
        try:
            results = {
                kind: bench_kind(kind, bootstrap, args.partitions, args.seconds, classpath, args)
                for kind in args.kinds.split(",")
            }
        finally:
            if services is not None:
                services.stop()
    print(
        json.dumps(
            {
                **header(
                    "producers_throughput",
                    load_avg_1m_at_start=round(load_at_start, 2),
                    load_avg_1m_at_end=round(os.getloadavg()[0], 2),
                ),
                "settings": {
                    "seconds": args.seconds,
                    "partitions": args.partitions,
                    "acks": "all",
                    "idempotent": True,
                    "out_of_order_ratio": args.out_of_order,
                    "malformed_ratio": args.malformed,
                    "rate": args.rate,
                    "pacing_tick_ms": args.pacing_tick_ms if args.rate is not None else None,
                },
                "results": results,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
