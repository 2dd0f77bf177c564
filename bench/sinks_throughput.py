"""Benchmark: sustained events/s from the local broker into MinIO as Parquet, against the raw consume ceiling.

One command: ``.venv/bin/python bench/sinks_throughput.py [--events N]``. It uses the Kafka and S3 named by the
``KEMU_*`` settings when given, else starts its own embedded services in a temporary directory. In one run it:

1. produces N clickstream-like JSON events into a fresh topic;
2. measures the ceiling: a bare aiokafka consumer reading the topic with ``getmany`` (no decoding, no output), with
   the same fetch settings as the sink's consumer;
3. runs one delivery stream (5 MiB buffers, zstd Parquet) in a child process (``bench/sinks_child.py``) over the
   same topic until everything is delivered, sampling the memory (PSS and RSS) and CPU time of the child's whole
   process tree (the stream's consuming process and its write worker);
4. checks the objects hold every event exactly once, and prints one JSON document.

Not a test: nothing here asserts a speed. Results go to BENCHMARKS.md with the command, machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import os
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import orjson
import psutil
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import SecretStr

from emulator.services import LocalServices
from emulator.settings import Settings
from sinks import BufferingHints, DeliveryStreamConfig, S3Connection, make_s3_client
from sinks.delivery import consumer_fetch_settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import header

ROOT = Path(__file__).resolve().parents[1]

COUNTRIES = ["DE", "FR", "US", "BR", "IN", "JP", "GB", "ES"]
TYPES = ["page_view", "click", "add_to_cart", "purchase", "error"]


def clickstream_event(i: int) -> bytes:
    purchase = i % 20 == 0
    return orjson.dumps(
        {
            "event_id": f"evt-{i:012d}",
            "event_type": TYPES[i % len(TYPES)],
            "event_time": "2026-11-27T08:00:00.123Z",
            "user_id": f"user-{i % 5000}",
            "session_id": f"s-{i // 37}",
            "url": f"/products/{i % 997}",
            "referrer": "https://search.example/?q=shoes",
            "device": "Mozilla/5.0 (X11; Linux x86_64)",
            "country": COUNTRIES[i % len(COUNTRIES)],
            "product_id": f"p-{i % 997}" if purchase else None,
            "price": 19.99 if purchase else None,
            "status_code": 200,
        }
    )


@contextlib.contextmanager
def endpoints() -> Iterator[tuple[str, S3Connection, str]]:
    settings = Settings.load()
    s3 = settings.s3
    if settings.kafka.bootstrap_servers and s3.endpoint_url and s3.access_key_id and s3.secret_access_key:
        yield (
            settings.kafka.bootstrap_servers,
            S3Connection(
                endpoint_url=s3.endpoint_url,
                access_key_id=s3.access_key_id,
                secret_access_key=s3.secret_access_key,
                region=s3.region,
            ),
            s3.bucket,
        )
        return
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as tmp:
        services = LocalServices(settings.services, bucket="kemu-bench", run_dir=Path(tmp))
        with services as state:
            creds = services.credentials()
            yield (
                state.kafka.bootstrap_servers,
                S3Connection(
                    endpoint_url=state.minio.endpoint_url,
                    access_key_id=creds.access_key_id,
                    secret_access_key=SecretStr(creds.secret_access_key.get_secret_value()),
                ),
                "kemu-bench",
            )


async def produce(bootstrap: str, topic: str, events: int, partitions: int) -> float:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=512 * 1024)
    try:
        await producer.start()
        started = time.perf_counter()
        pending = []
        for i in range(events):
            pending.append(await producer.send(topic, clickstream_event(i), partition=i % partitions))
            if len(pending) >= 20_000:
                await asyncio.gather(*pending)
                pending.clear()
        await asyncio.gather(*pending)
    finally:
        await producer.stop()
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def produced_topic(bootstrap: str, name: str, events: int, partitions: int) -> AsyncIterator[tuple[str, float]]:
    """A new topic ``<name>-<random>`` of ``partitions`` holding ``events`` clickstream events, with the seconds the
    producing took; deleted on the way out."""
    topic = f"{name}-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        yield topic, await produce(bootstrap, topic, events, partitions)
    finally:
        await admin.delete_topics([topic])
        await admin.close()


async def consume_ceiling(bootstrap: str, config: DeliveryStreamConfig, events: int) -> tuple[float, float]:
    """Seconds from the first batch to the last event, and the CPU seconds this process spent meanwhile."""
    consumer = AIOKafkaConsumer(
        config.source_topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-ceiling-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **consumer_fetch_settings(config),  # the sink's own fetch sizes: the ratio compares like with like
    )
    try:
        await consumer.start()
        seen, started, cpu_started = 0, None, 0.0
        while seen < events:
            batch = await consumer.getmany(timeout_ms=500)
            if started is None and batch:
                started, cpu_started = time.perf_counter(), time.process_time()
            for records in batch.values():
                seen += sum(1 for r in records if r.value is not None)
        return time.perf_counter() - (started or time.perf_counter()), time.process_time() - cpu_started
    finally:
        await consumer.stop()


def plain_connection(s3: S3Connection) -> dict[str, Any]:
    """The connection for the child process, secret included (pydantic masks it when serialising)."""
    data = s3.model_dump()
    data["secret_access_key"] = s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
    return data


class TreeUsage:
    """Samples the memory of a process and all its descendants (the sink and its write worker), and their CPU time.

    Memory is summed three ways: PSS (proportional set size: a page shared by both processes, such as the Python
    runtime's, counts half in each), the budgeted figure; RSS (a shared page counts in full in each); and USS (only
    the pages no other process maps: what the buffers and objects take, whatever else runs). CPU time
    (user + system) is kept per process as last seen: it depends much less on a busy machine than a rate does."""

    def __init__(self, pid: int) -> None:
        self.root = psutil.Process(pid)
        self.peak_pss = 0
        self.peak_rss = 0
        self.peak_uss = 0
        self.peak_pss_by_process: dict[str, int] = {}
        #: (time.monotonic(), CPU seconds so far by role), one per sample.
        self.cpu_samples: list[tuple[float, dict[str, float]]] = []
        self._cpu_by_pid: dict[int, tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> TreeUsage:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def cpu_between(self, start: float, end: float) -> dict[str, float]:
        """CPU seconds each role spent between two ``time.monotonic()`` instants (to the nearest sample)."""
        before = [cpu for at, cpu in self.cpu_samples if at <= start] or [{}]
        until = [cpu for at, cpu in self.cpu_samples if at <= end] or [{}]
        return {role: seconds - before[-1].get(role, 0.0) for role, seconds in until[-1].items()}

    def _run(self) -> None:
        while not self._stop.is_set():
            with contextlib.suppress(psutil.Error):
                pss = rss = uss = 0
                for proc in [self.root, *self.root.children(recursive=True)]:
                    with contextlib.suppress(psutil.Error):
                        memory = proc.memory_full_info()
                        times = proc.cpu_times()
                        role = "worker" if "sinks.worker_main" in " ".join(proc.cmdline()) else "sink"
                        pss, rss, uss = pss + memory.pss, rss + memory.rss, uss + memory.uss
                        self.peak_pss_by_process[role] = max(self.peak_pss_by_process.get(role, 0), memory.pss)
                        self._cpu_by_pid[proc.pid] = (role, times.user + times.system)
                self.peak_pss = max(self.peak_pss, pss)
                self.peak_rss = max(self.peak_rss, rss)
                self.peak_uss = max(self.peak_uss, uss)
                by_role: dict[str, float] = {}
                for role, seconds in self._cpu_by_pid.values():
                    by_role[role] = by_role.get(role, 0.0) + seconds
                self.cpu_samples.append((time.monotonic(), by_role))
            time.sleep(0.05)


async def run_sink(config: DeliveryStreamConfig, bootstrap: str, s3: S3Connection) -> tuple[dict[str, Any], TreeUsage]:
    spec = {"config": config.model_dump(mode="json", by_alias=True), "s3": plain_connection(s3), "bootstrap": bootstrap}
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH")) if p)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "bench.sinks_child",
        stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env, cwd=ROOT,
    )  # fmt: skip
    with TreeUsage(child.pid) as usage:
        out, _ = await child.communicate(json.dumps(spec).encode())
    if child.returncode != 0:
        raise RuntimeError(f"the sink process exited with code {child.returncode} before reporting")
    result: dict[str, Any] = json.loads(out.decode().strip().splitlines()[-1])
    return result, usage


def count_landed(s3: S3Connection, bucket: str, prefix: str) -> tuple[int, int]:
    client = make_s3_client(s3)
    rows = objects = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            rows += pq.read_metadata(io.BytesIO(body)).num_rows
            objects += 1
    return rows, objects


async def main(events: int, partitions: int, buffer_mib: int) -> dict[str, Any]:
    with endpoints() as (bootstrap, s3, bucket):
        return await measure(bootstrap, s3, bucket, events, partitions, buffer_mib)


async def measure(
    bootstrap: str, s3: S3Connection, bucket: str, events: int, partitions: int, buffer_mib: int
) -> dict[str, Any]:
    """One run on given services (``bench/cost_curves.py`` makes several on one set)."""
    async with produced_topic(bootstrap, "bench-sinks", events, partitions) as (topic, produce_s):
        prefix = f"bench/{topic}/"
        config = DeliveryStreamConfig(
            name="bench",
            source_topic=topic,
            bucket=bucket,
            prefix=prefix + "dt=!{timestamp:yyyy-MM-dd}/",
            error_output_prefix=f"bench-errors/{topic}/!{{firehose:error-output-type}}/",
            buffering=BufferingHints(size_mib=buffer_mib, interval_s=60),
            consumer_group=f"bench-sink-{uuid.uuid4().hex[:8]}",
        )
        ceiling_s, ceiling_cpu_s = await consume_ceiling(bootstrap, config, events)
        sink, usage = await run_sink(config, bootstrap, s3)
        landed_rows, landed_objects = count_landed(s3, bucket, prefix)
    ceiling_eps = events / ceiling_s if ceiling_s > 0 else 0.0
    sink_eps = sink["records"] / sink["elapsed_s"]
    sink_cpu = usage.cpu_between(sink["first_record_at"], sink["last_write_at"])
    buffer_bytes = buffer_mib * 2**20
    return {
        **header("sinks_throughput"),
        "events": events,
        "partitions": partitions,
        "buffer_mib": buffer_mib,
        "event_bytes_avg": round(len(b"".join(clickstream_event(i) for i in range(1000))) / 1000, 1),
        "produce_s": round(produce_s, 3),
        "ceiling": {"seconds": round(ceiling_s, 3), "events_per_s": round(ceiling_eps)},
        "sink": {
            "seconds": round(sink["elapsed_s"], 3),
            "seconds_with_startup": round(sink["wall_s"], 3),
            "events_per_s": round(sink_eps),
            "objects": sink["objects"],
            "parquet_mib": round(sink["bytes"] / 2**20, 2),
            "flush_reasons": sink["flushes"],
            "failed": sink["failed"],
        },
        "ratio_to_ceiling": round(sink_eps / ceiling_eps, 3) if ceiling_eps else None,
        # Summed over the sink's process tree (the consuming process and its write worker). PSS is the budgeted
        # figure: the pages both processes share (the Python runtime, libraries) count once, split between them.
        "peak_pss_mib": round(usage.peak_pss / 2**20, 1),
        "peak_pss_by_process_mib": {k: round(v / 2**20, 1) for k, v in sorted(usage.peak_pss_by_process.items())},
        "peak_rss_sum_mib": round(usage.peak_rss / 2**20, 1),
        # USS: the pages only the sink's processes hold (what its buffers and objects take), which unlike PSS does
        # not move when other processes on the machine map the same libraries.
        "peak_uss_sum_mib": round(usage.peak_uss / 2**20, 1),
        "memory_budget_mib": round((2 * buffer_bytes + 200 * 2**20) / 2**20, 1),
        # CPU time per event over the same sustained span as the rates: less sensitive to a busy machine.
        "cpu_us_per_event": {
            "ceiling": round(ceiling_cpu_s / events * 1e6, 2),
            **{role: round(seconds / sink["records"] * 1e6, 2) for role, seconds in sorted(sink_cpu.items())},
        },
        "landed": {"rows": landed_rows, "objects": landed_objects, "exactly_once": landed_rows == events},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--buffer-mib", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.events, args.partitions, args.buffer_mib)), indent=2))
