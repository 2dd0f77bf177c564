"""Benchmark: sustained events/s from the local broker into MinIO as Parquet, against the raw consume ceiling.

One command: ``.venv/bin/python bench/sinks_throughput.py [--events N]``. It uses the Kafka and S3 named by the
``KEMU_*`` settings when given, else starts its own embedded services in a temporary directory. In one run it:

1. produces N clickstream-like JSON events into a fresh topic;
2. measures the ceiling: a bare aiokafka consumer reading the topic with ``getmany`` (no decoding, no output);
3. runs one delivery stream (5 MiB buffers, zstd Parquet) in a child process over the same topic until everything
   is delivered, sampling the child's RSS;
4. checks the objects hold every event exactly once, and prints one JSON document.

Not a test: nothing here asserts a speed. Results go to BENCHMARKS.md with the command, machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import io
import json
import multiprocessing as mp
import os
import platform
import queue
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import psutil
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import SecretStr

from emulator.services import LocalServices
from emulator.services.buckets import s3_client
from emulator.settings import Settings
from sinks import BufferingHints, DeliveryStream, DeliveryStreamConfig, S3Connection

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
    await producer.start()
    started = time.perf_counter()
    try:
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


async def consume_ceiling(bootstrap: str, topic: str, events: int) -> float:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=f"bench-ceiling-{uuid.uuid4().hex[:8]}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        fetch_max_bytes=5 * 1024 * 1024,
        max_partition_fetch_bytes=1024 * 1024,
    )
    await consumer.start()
    try:
        seen, started = 0, None
        while seen < events:
            batch = await consumer.getmany(timeout_ms=500)
            if started is None and batch:
                started = time.perf_counter()
            for records in batch.values():
                seen += sum(1 for r in records if r.value is not None)
        return time.perf_counter() - (started or time.perf_counter())
    finally:
        await consumer.stop()


def run_sink(config_json: str, bootstrap: str, s3_json: str, result: Any) -> None:
    """Child process: deliver until caught up; report elapsed time from the first poll and the counters."""
    config = DeliveryStreamConfig.model_validate_json(config_json)
    s3 = S3Connection.model_validate(json.loads(s3_json))
    stream = DeliveryStream(config, bootstrap, s3, stop_when_caught_up=True, poll_timeout_ms=100)
    started = time.perf_counter()
    stats = asyncio.run(stream.run(asyncio.Event()))
    sustained = (
        stats.last_write_at - stats.first_record_at
        if stats.first_record_at is not None and stats.last_write_at is not None
        else time.perf_counter() - started
    )
    result.put(
        {
            "elapsed_s": sustained,
            "wall_s": time.perf_counter() - started,
            "records": stats.records_delivered,
            "failed": stats.records_failed,
            "objects": stats.objects,
            "bytes": stats.bytes_written,
            "flushes": stats.flush_reasons,
        }
    )


def plain_connection(s3: S3Connection) -> dict[str, Any]:
    """The connection for the child process, secret included (pydantic masks it when serialising)."""
    data = s3.model_dump()
    data["secret_access_key"] = s3.secret_access_key.get_secret_value() if s3.secret_access_key else None
    return data


def wait_for_result(child: Any, result: Any) -> dict[str, Any]:
    while True:
        with contextlib.suppress(queue.Empty):
            found: dict[str, Any] = result.get(True, 0.5)
            return found
        if not child.is_alive():
            raise RuntimeError(f"the sink process exited with code {child.exitcode} before reporting")


def count_landed(s3: S3Connection, bucket: str, prefix: str) -> tuple[int, int]:
    secret = s3.secret_access_key.get_secret_value() if s3.secret_access_key else ""
    client = s3_client(s3.endpoint_url or "", s3.access_key_id or "", secret, s3.region)
    rows = objects = 0
    for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            body = client.get_object(Bucket=bucket, Key=obj["Key"])["Body"].read()
            rows += pq.read_metadata(io.BytesIO(body)).num_rows
            objects += 1
    return rows, objects


async def main(events: int, partitions: int, buffer_mib: int) -> dict[str, Any]:
    with endpoints() as (bootstrap, s3, bucket):
        topic = f"bench-sinks-{uuid.uuid4().hex[:8]}"
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        await admin.start()
        await admin.create_topics([NewTopic(topic, num_partitions=partitions, replication_factor=1)])
        try:
            produce_s = await produce(bootstrap, topic, events, partitions)
            ceiling_s = await consume_ceiling(bootstrap, topic, events)
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
            ctx = mp.get_context("spawn")
            result = ctx.Queue()
            child = ctx.Process(
                target=run_sink,
                args=(config.model_dump_json(by_alias=True), bootstrap, json.dumps(plain_connection(s3)), result),
            )
            child.start()
            peak = 0
            stop_sampling = threading.Event()

            def sample() -> None:
                nonlocal peak
                proc = psutil.Process(child.pid)
                while not stop_sampling.is_set():
                    with contextlib.suppress(psutil.Error):
                        peak = max(peak, proc.memory_info().rss)
                    time.sleep(0.05)

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            sink = await asyncio.to_thread(wait_for_result, child, result)
            child.join(30)
            stop_sampling.set()
            sampler.join()
            landed_rows, landed_objects = count_landed(s3, bucket, prefix)
        finally:
            await admin.delete_topics([topic])
            await admin.close()
    ceiling_eps = events / ceiling_s if ceiling_s > 0 else 0.0
    sink_eps = sink["records"] / sink["elapsed_s"]
    buffer_bytes = buffer_mib * 2**20
    return {
        "benchmark": "sinks_throughput",
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "platform": platform.platform()},
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
        "peak_rss_mib": round(peak / 2**20, 1),
        "rss_budget_mib": round((2 * buffer_bytes + 200 * 2**20) / 2**20, 1),
        "landed": {"rows": landed_rows, "objects": landed_objects, "exactly_once": landed_rows == events},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=500_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--buffer-mib", type=int, default=5)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main(args.events, args.partitions, args.buffer_mib)), indent=2))
