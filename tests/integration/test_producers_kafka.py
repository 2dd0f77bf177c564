"""The producer path on the real broker: complete, in the Kinesis shard of each key, in per-key order."""

import asyncio
import collections
from collections.abc import Callable

import orjson
from aiokafka import AIOKafkaConsumer, TopicPartition

from producers import (
    KafkaPublisher,
    KafkaPublisherConfig,
    RealismConfig,
    Record,
    RecordSource,
    RunConfig,
    StreamKind,
    produce,
    shard_for_partition_key,
)
from tests.support.record_sources import record_source


def source_of(kind: StreamKind, seed: int, realism: RealismConfig) -> RecordSource:
    return record_source(kind, seed, 5000.0, realism)


def expected_records(kind: StreamKind, seed: int, realism: RealismConfig, count: int, chunk: int) -> list[Record]:
    """The records a run of ``count`` events produces, regenerated from the seed without any broker."""
    src = source_of(kind, seed, realism)
    records: list[Record] = []
    while src.generated < count:
        records.extend(src.next_records(min(chunk, count - src.generated)))
    records.extend(src.drain())
    return records


async def consume_all(bootstrap: str, topic: str, partitions: int, expected: int) -> list[tuple[int, str, bytes]]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, fetch_max_bytes=8_388_608)
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        got: list[tuple[int, str, bytes]] = []
        idle = 0
        while len(got) < expected and idle < 20:
            batch = await consumer.getmany(timeout_ms=500, max_records=50_000)
            idle = 0 if batch else idle + 1
            for tp, messages in batch.items():
                got.extend((tp.partition, m.key.decode(), m.value) for m in messages)
        # Anything beyond the expected count would be a duplicate: give it a moment to show up.
        extra = await consumer.getmany(timeout_ms=1000)
        for tp, messages in extra.items():
            got.extend((tp.partition, m.key.decode(), m.value) for m in messages)
        return got
    finally:
        await consumer.stop()


def per_key(records: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    grouped: dict[str, list[bytes]] = collections.defaultdict(list)
    for key, value in records:
        grouped[key].append(value)
    return grouped


async def test_events_come_back_complete_in_their_shard_and_in_per_key_order(
    kafka_bootstrap: str, new_topic: Callable[..., asyncio.Future[str]]
) -> None:
    partitions, count, seed = 4, 30_000, 2026
    realism = RealismConfig(out_of_order_ratio=0.05, malformed_ratio=0.01, oversized_bytes=4096)
    topic = await new_topic(partitions=partitions)
    run = RunConfig(count=count, chunk_size=2000)
    async with KafkaPublisher(KafkaPublisherConfig(bootstrap_servers=kafka_bootstrap), topic) as sink:
        summary = await produce(source_of(StreamKind.GAME, seed, realism), sink, run)
    assert summary.generated == summary.sent == summary.acknowledged == count
    assert summary.failed == 0

    consumed = await consume_all(kafka_bootstrap, topic, partitions, count)
    expected = expected_records(StreamKind.GAME, seed, realism, count, run.chunk_size)
    assert len(consumed) == count
    assert sorted(value for _, _, value in consumed) == sorted(value for _, value in expected)
    for partition, key, _ in consumed:
        assert partition == shard_for_partition_key(key, partitions)
    # Per-key order: what a key's consumer sees is exactly the order the producer emitted for that key.
    assert per_key([(key, value) for _, key, value in consumed]) == per_key(expected)
    assert {p for p, _, _ in consumed} == set(range(partitions))


async def test_every_generator_writes_valid_keyed_events(
    kafka_bootstrap: str, new_topic: Callable[..., asyncio.Future[str]]
) -> None:
    for kind in (StreamKind.CLICKSTREAM, StreamKind.IOT):
        topic = await new_topic(partitions=3)
        async with KafkaPublisher(KafkaPublisherConfig(bootstrap_servers=kafka_bootstrap), topic) as sink:
            summary = await produce(source_of(kind, 7, RealismConfig()), sink, RunConfig(count=3000))
        assert summary.acknowledged == 3000
        consumed = await consume_all(kafka_bootstrap, topic, 3, 3000)
        assert len(consumed) == 3000
        for partition, key, value in consumed:
            assert orjson.loads(value)[kind.partition_key_field] == key
            assert partition == shard_for_partition_key(key, 3)
