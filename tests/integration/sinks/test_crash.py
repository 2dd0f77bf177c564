"""Exactly once under crashes: ``kemu sink run`` is SIGKILLed at random moments while 200,000 events arrive."""

from __future__ import annotations

import asyncio
import io
import random
import signal
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pyarrow.parquet as pq
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from tests.integration.sinks.child import crash_stream, start_sink_run, write_config
from tests.integration.sinks.helpers import (
    committed,
    deliver,
    delivery_config,
    encode,
    event,
    keys_under,
    landed,
    produce,
)
from tests.support.endpoints import Endpoints

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

EVENTS = 200_000
KILLS = 10


async def wait_for_planned_cut(admin: AIOKafkaAdminClient, group: str, deadline_s: float) -> bool:
    """Poll the group's commits until one carries a planned cut (a write is in flight), or the deadline passes."""
    loop = asyncio.get_running_loop()
    end = loop.time() + deadline_s
    before = await committed(admin, group)
    while loop.time() < end:
        offsets = await committed(admin, group)
        if any((om.metadata or "").startswith("kemu-cut:") and before.get(tp) != om for tp, om in offsets.items()):
            return True
        await asyncio.sleep(0.005)
    return False


def object_ranges(s3: S3Client, bucket: str, prefix: str) -> dict[int, list[tuple[int, int, int]]]:
    """Per source partition, the (first offset, last offset, rows) of every object, from its Parquet metadata."""
    ranges: dict[int, list[tuple[int, int, int]]] = {}
    for key in keys_under(s3, bucket, prefix):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        meta = pq.read_metadata(io.BytesIO(body))
        kv = meta.metadata
        part = int(kv[b"kemu.partition"])
        ranges.setdefault(part, []).append((int(kv[b"kemu.first_offset"]), int(kv[b"kemu.last_offset"]), meta.num_rows))
    return {p: sorted(r) for p, r in ranges.items()}


async def test_sigkill_at_random_moments_delivers_every_event_exactly_once(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client, tmp_path: Path
) -> None:
    partitions = 4
    topic = await new_topic(partitions=partitions)
    group = new_group_id()
    config = write_config(tmp_path / "kemu.toml", crash_stream(topic, bucket_prefix, group))
    admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
    try:
        await admin.start()
    except BaseException:
        await admin.close()
        raise
    rng = random.Random(20261127)

    async def producer_task() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka_bootstrap, linger_ms=20, acks="all")
        try:
            await producer.start()
            for chunk in range(20):
                futures = []
                for i in range(chunk * EVENTS // 20, (chunk + 1) * EVENTS // 20):
                    futures.append(await producer.send(topic, orjson.dumps(event(i)), partition=i % partitions))
                await asyncio.gather(*futures)
                await asyncio.sleep(0.5)
        finally:
            await producer.stop()

    producing = asyncio.create_task(producer_task())
    proc = None
    try:
        kills = 0
        logs = []
        while kills < KILLS or not producing.done():
            log = tmp_path / f"run-{kills}.log"
            logs.append(log)
            proc = await start_sink_run(config, "crash", endpoints, log, "--progress-interval", "1")
            if kills % 2:
                # Aim at the narrow window between the planned cut's commit and the final commit.
                await wait_for_planned_cut(admin, group, deadline_s=8.0)
            else:
                await asyncio.sleep(rng.uniform(1.5, 4.0))
            proc.send_signal(signal.SIGKILL)
            await asyncio.wait_for(proc.wait(), 10)
            kills += 1
        await producing
    finally:
        if proc is not None and proc.returncode is None:
            proc.kill()
            await proc.wait()
        producing.cancel()
        await admin.close()
    final = tmp_path / "final.log"
    done = await start_sink_run(config, "crash", endpoints, final, "--until-caught-up")
    await asyncio.wait_for(done.wait(), 240)
    assert done.returncode == 0, final.read_text()[-2000:]
    recoveries = sum(p.read_text().count("resuming an interrupted write") for p in [*logs, final])
    print(f"\n{kills} SIGKILLs; {recoveries} restarts resumed an interrupted write")
    assert recoveries >= 1, "no kill landed inside a write: the replay path was not exercised"

    con = landed(endpoints, bucket_prefix + "data/")
    total, distinct = con.execute("select count(*), count(distinct event_id) from landed").fetchone()  # type: ignore[misc]
    assert (total, distinct) == (EVENTS, EVENTS)
    assert con.execute("select min(points), max(points), sum(points) from landed").fetchone() == (
        0,
        EVENTS - 1,
        EVENTS * (EVENTS - 1) // 2,
    )
    # Object boundaries never overlap, and each partition's objects tile its offsets with no gap.
    for part, ranges in object_ranges(s3, endpoints.bucket, bucket_prefix + "data/").items():
        expected = 0
        for first, last, rows in ranges:
            assert first == expected, (part, ranges)
            assert rows == last - first + 1
            expected = last + 1
        assert expected == EVENTS // partitions
    assert keys_under(s3, endpoints.bucket, bucket_prefix + "errors/") == []


async def test_restart_honours_the_planned_cut(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    """A crash after the plan was committed but before the offsets were: the replay cuts at the planned offset,
    even though the buffering hints would now cut elsewhere."""
    topic = await new_topic(partitions=2)
    await produce(endpoints.kafka_bootstrap, topic, encode([event(i) for i in range(2000)]), partitions=2)
    group = new_group_id()
    consumer = AIOKafkaConsumer(bootstrap_servers=endpoints.kafka_bootstrap, group_id=group, enable_auto_commit=False)
    try:
        await consumer.start()
        consumer.assign([TopicPartition(topic, 0)])
        await consumer.commit({TopicPartition(topic, 0): OffsetAndMetadata(0, "kemu-cut:299")})
    finally:
        await consumer.stop()
    config = delivery_config("cut", topic, endpoints.bucket, bucket_prefix, group, data="", size_mib=64, interval_s=0)
    stream = await deliver(config, endpoints)
    assert stream.stats.recovered_cuts == 1
    ranges = object_ranges(s3, endpoints.bucket, bucket_prefix)
    assert ranges[0][0] == (0, 299, 300)
    assert ranges[0][1][0] == 300
    assert ranges[0][-1][1] == 999
    assert sum(rows for r in ranges.values() for _, _, rows in r) == 2000
