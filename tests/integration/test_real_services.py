"""The pinned broker and MinIO, driven by the clients the product uses: what every later feature stands on."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from tests.conftest import TopicFactory

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


async def consume_all(bootstrap: str, topic: str, expected: int, **kwargs: object) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest", **kwargs)
    try:
        await consumer.start()
        values: list[bytes] = []
        for _ in range(40):
            batches = await consumer.getmany(timeout_ms=250)
            values.extend(msg.value for msgs in batches.values() for msg in msgs)
            if len(values) >= expected:
                break
    finally:
        await consumer.stop()
    return values


async def test_produce_consume_and_commit_in_a_group(
    kafka_bootstrap: str, new_topic: TopicFactory, new_group_id: Callable[[], str]
) -> None:
    topic = await new_topic(partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        await producer.start()
        batch = [producer.send(topic, f"event-{i}".encode(), key=f"k{i % 7}".encode()) for i in range(300)]
        for future in batch:
            await (await future)
    finally:
        await producer.stop()

    group = new_group_id()
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=group,
        auto_offset_reset="earliest",
        enable_auto_commit=False,
    )
    try:
        await consumer.start()
        seen: list[bytes] = []
        while len(seen) < 300:
            batches = await consumer.getmany(timeout_ms=1000)
            assert batches, f"no more records after {len(seen)} of 300"
            seen.extend(msg.value for msgs in batches.values() for msg in msgs)
        await consumer.commit()
        committed = {p: await consumer.committed(TopicPartition(topic, p)) for p in range(3)}
    finally:
        await consumer.stop()
    assert sorted(seen) == sorted(f"event-{i}".encode() for i in range(300))
    assert sum(offset or 0 for offset in committed.values()) == 300

    # A new member of the same group starts from the committed offsets: nothing is delivered again.
    assert await consume_all(kafka_bootstrap, topic, expected=1, group_id=group) == []


async def test_idempotent_producer(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, enable_idempotence=True)
    try:
        await producer.start()
        offsets = [(await producer.send_and_wait(topic, f"m{i}".encode())).offset for i in range(20)]
    finally:
        await producer.stop()
    assert offsets == list(range(20))
    assert await consume_all(kafka_bootstrap, topic, expected=20) == [f"m{i}".encode() for i in range(20)]


async def test_transactions_commit_and_abort(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic()
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"tx-{topic}")
    try:
        await producer.start()
        async with producer.transaction():
            await producer.send(topic, b"committed-1")
            await producer.send(topic, b"committed-2")
        await producer.begin_transaction()
        await producer.send(topic, b"aborted")
        await producer.abort_transaction()
        async with producer.transaction():
            await producer.send(topic, b"committed-3")
    finally:
        await producer.stop()
    committed = await consume_all(kafka_bootstrap, topic, expected=3, isolation_level="read_committed")
    assert committed == [b"committed-1", b"committed-2", b"committed-3"]
    uncommitted = await consume_all(kafka_bootstrap, topic, expected=4, isolation_level="read_uncommitted")
    assert b"aborted" in uncommitted


def test_put_list_and_get_objects_in_minio(s3: S3Client, bucket: str, bucket_prefix: str) -> None:
    body = b"x" * 100_000
    s3.put_object(Bucket=bucket, Key=f"{bucket_prefix}a/one.bin", Body=body)
    s3.put_object(Bucket=bucket, Key=f"{bucket_prefix}a/two.bin", Body=b"two")
    listed = s3.list_objects_v2(Bucket=bucket, Prefix=bucket_prefix)
    assert sorted(obj["Key"] for obj in listed["Contents"]) == [
        f"{bucket_prefix}a/one.bin",
        f"{bucket_prefix}a/two.bin",
    ]
    assert s3.get_object(Bucket=bucket, Key=f"{bucket_prefix}a/one.bin")["Body"].read() == body
