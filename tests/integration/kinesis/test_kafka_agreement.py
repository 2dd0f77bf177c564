"""One world: what the API writes a plain Kafka consumer reads, and what aiokafka writes GetRecords returns."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from emulator.kinesis import sequence
from producers.partitioning import shard_for_partition_key, shard_id
from tests.integration.kinesis.conftest import StreamFactory


async def test_api_writes_are_read_by_a_plain_kafka_consumer(
    kinesis: Any, new_stream: StreamFactory, kafka_bootstrap: str
) -> None:
    name = await asyncio.to_thread(new_stream, 4)
    records = [{"Data": f"event-{i}".encode(), "PartitionKey": f"device-{i % 13}"} for i in range(100)]
    response = await asyncio.to_thread(kinesis.put_records, StreamName=name, Records=records)
    assert response["FailedRecordCount"] == 0

    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None, auto_offset_reset="earliest")
    try:
        await consumer.start()
        partitions = [TopicPartition(name, p) for p in range(4)]
        consumer.assign(partitions)
        seen: list[Any] = []
        deadline = time.monotonic() + 20
        while len(seen) < 100 and time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                seen.extend(batch)
    finally:
        await consumer.stop()
    assert len(seen) == 100
    for record in seen:
        key = record.key.decode()
        assert record.partition == shard_for_partition_key(key, 4)
    by_value = {record.value: record for record in seen}
    for entry, sent in zip(response["Records"], records, strict=True):
        kafka_record = by_value[sent["Data"]]
        assert entry["ShardId"] == shard_id(kafka_record.partition)
        assert sequence.decode(entry["SequenceNumber"]) == (kafka_record.partition, kafka_record.offset)


async def test_aiokafka_writes_come_back_through_get_records(
    kinesis: Any, kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]]
) -> None:
    # A topic created and written with plain Kafka tools (as the producers package does) is a stream too.
    topic = await new_topic(partitions=3)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
    try:
        await producer.start()
        sent: dict[bytes, Any] = {}
        for i in range(30):
            key = f"player-{i}"
            partition = shard_for_partition_key(key, 3)
            metadata = await producer.send_and_wait(
                topic, key=key.encode(), value=f"v{i}".encode(), partition=partition
            )
            sent[f"v{i}".encode()] = (key, metadata)
    finally:
        await producer.stop()

    got: list[Any] = []
    for shard in range(3):
        iterator = (
            await asyncio.to_thread(
                kinesis.get_shard_iterator, StreamName=topic, ShardId=shard_id(shard), ShardIteratorType="TRIM_HORIZON"
            )
        )["ShardIterator"]
        response = await asyncio.to_thread(kinesis.get_records, ShardIterator=iterator)
        got.extend((shard, record) for record in response["Records"])
    assert len(got) == 30
    for shard, record in got:
        key, metadata = sent[record["Data"]]
        assert record["PartitionKey"] == key
        assert shard == metadata.partition
        assert round(record["ApproximateArrivalTimestamp"].timestamp() * 1000) == metadata.timestamp
    description = (await asyncio.to_thread(kinesis.describe_stream, StreamName=topic))["StreamDescription"]
    assert len(description["Shards"]) == 3
    assert description["StreamStatus"] == "ACTIVE"
