"""The engine's lean partition reader against the real broker, with aiokafka's consumer as the oracle."""

from __future__ import annotations

import asyncio
import logging
import uuid
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete

from analytics.reader import PartitionReader, ReaderError
from emulator.services import LocalServices
from emulator.settings import ServicesSettings
from producers import ensure_stream
from tests.conftest import TopicFactory

Record = tuple[int, int, bytes | None]


async def _produce_mixed(bootstrap: str, topic: str, partitions: int) -> None:
    """Plain, gzip-compressed and transactional batches (whose commit markers are control batches), a null value."""
    plain = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20)
    gzipped = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, compression_type="gzip")
    transactional = AIOKafkaProducer(bootstrap_servers=bootstrap, transactional_id=f"reader-{uuid.uuid4().hex}")
    try:
        for producer in (plain, gzipped, transactional):
            await producer.start()
        for round_ in range(3):
            sent = [
                await plain.send(topic, f"plain-{round_}-{i}".encode(), partition=i % partitions) for i in range(300)
            ]
            sent += [
                await gzipped.send(topic, f"gzip-{round_}-{i}".encode(), partition=i % partitions) for i in range(300)
            ]
            async with transactional.transaction():
                for i in range(50):
                    await transactional.send(topic, f"tx-{round_}-{i}".encode(), partition=i % partitions)
            sent.append(await plain.send(topic, None, key=b"tombstone", partition=0))
            for future in sent:
                await future
    finally:
        await plain.stop()
        await gzipped.stop()
        await transactional.stop()


async def _oracle(bootstrap: str, topic: str, partitions: int) -> list[Record]:
    """What aiokafka's consumer reads, ``read_committed`` as the reader reads."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None, isolation_level="read_committed"
    )
    try:
        await consumer.start()
        tps = [TopicPartition(topic, p) for p in range(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        ends = await consumer.end_offsets(tps)
        seen: list[Record] = []
        while [tp for tp in tps if await consumer.position(tp) < ends[tp]]:
            for tp, records in (await consumer.getmany(timeout_ms=500)).items():
                seen += [(tp.partition, r.offset, r.value) for r in records]
        return sorted(seen)
    finally:
        await consumer.stop()


async def _read_all(reader: PartitionReader, max_records: int) -> list[Record]:
    seen: list[Record] = []
    for _ in range(10_000):
        if all(reader.highwater(p) == reader.position(p) for p in reader.partitions):
            return sorted(seen)
        fetched = await reader.fetch(max_records)
        assert fetched.count <= max_records
        for partition, offsets, values in fetched.parts:
            assert offsets == sorted(offsets)
            assert fetched.next_offsets[partition] > offsets[-1]
            seen += [(partition, o, v) for o, v in zip(offsets, values, strict=True)]
    raise AssertionError("the reader did not reach the end of the topic")


async def test_reads_what_the_consumer_reads(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic(partitions=3)
    await _produce_mixed(kafka_bootstrap, topic, 3)
    expected = await _oracle(kafka_bootstrap, topic, 3)
    assert len(expected) == 3 * (600 + 50 + 1)
    reader = PartitionReader(kafka_bootstrap, topic, max_wait_ms=200)
    await reader.start()
    try:
        reader.assign([0, 1, 2])
        await reader.seek_to([0, 1, 2], "earliest")
        # A cap far below what one fetch returns: most hand-outs come from what the last fetch left over.
        assert await _read_all(reader, max_records=97) == expected
        # The transactions' commit markers take offsets: the end is past the last record, and the reader is there.
        last = {p: max(o for q, o, _ in expected if q == p) for p in range(3)}
        assert all(reader.position(p) == reader.highwater(p) > last[p] for p in range(3))
    finally:
        await reader.close()


async def test_seek_inside_a_batch_and_to_latest(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic(partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, linger_ms=50)
    reader = PartitionReader(kafka_bootstrap, topic, max_wait_ms=200)
    try:
        await producer.start()
        await reader.start()
        batch = producer.create_batch()
        for i in range(100):
            assert batch.append(key=None, value=f"v{i}".encode(), timestamp=None) is not None
        await (await producer.send_batch(batch, topic, partition=0))
        reader.assign([0])
        reader.seek(0, 37)  # inside the one batch of 100: the broker returns it whole
        assert await _read_all(reader, 1000) == [(0, i, f"v{i}".encode()) for i in range(37, 100)]
        await reader.seek_to([0], "latest")
        assert reader.position(0) == 100
        await (await producer.send(topic, b"after", partition=0))
        fetched = await reader.fetch(1000)
        assert fetched.parts == [(0, [100], [b"after"])]
        assert fetched.next_offsets == {0: 101}
    finally:
        await reader.close()
        await producer.stop()


async def test_deleted_records_are_skipped_with_a_warning(
    kafka_bootstrap: str, new_topic: TopicFactory, caplog: pytest.LogCaptureFixture
) -> None:
    topic = await new_topic(partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        await producer.start()
        for i in range(20):
            await (await producer.send(topic, f"v{i}".encode(), partition=0))
    finally:
        await producer.stop()
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        await admin.start()
        await admin.delete_records({TopicPartition(topic, 0): RecordsToDelete(before_offset=12)})
    finally:
        await admin.close()
    reader = PartitionReader(kafka_bootstrap, topic, max_wait_ms=200)
    await reader.start()
    try:
        reader.assign([0])
        reader.seek(0, 3)  # e.g. a checkpoint older than what retention kept
        with caplog.at_level(logging.WARNING, logger="analytics.reader"):
            read = await _read_all(reader, 1000)
        assert read == [(0, i, f"v{i}".encode()) for i in range(12, 20)]
        assert any("offset 3 of" in m and "earliest offset, 12" in m for m in caplog.messages), caplog.messages
    finally:
        await reader.close()


async def test_a_partition_without_a_position_is_an_error(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic(partitions=2)
    reader = PartitionReader(kafka_bootstrap, topic)
    await reader.start()
    try:
        reader.assign([0, 1])
        reader.seek(0, 0)
        with pytest.raises(ReaderError, match=r"partition 1 of .* has no position"):
            await reader.fetch(10)
    finally:
        await reader.close()


async def test_a_broker_restart_mid_read_loses_and_repeats_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # Its own Kafka (and MinIO, which the launcher starts with it): the session's shared broker must not restart.
    services = LocalServices(ServicesSettings(), bucket="kemu-test", run_dir=tmp_path)
    state = await asyncio.to_thread(services.start)
    try:
        bootstrap = state.kafka.bootstrap_servers
        topic = "reader-restart"
        await ensure_stream(bootstrap, topic, 2)
        # Small batches and small fetches: most of the topic is still to be fetched when the broker stops.
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=1024)
        try:
            await producer.start()
            for i in range(4_000):
                await producer.send(topic, f"v{i}".encode(), partition=i % 2)
            await producer.flush()
        finally:
            await producer.stop()
        reader = PartitionReader(bootstrap, topic, max_wait_ms=100, max_partition_bytes=1024)
        await reader.start()
        try:
            reader.assign([0, 1])
            await reader.seek_to([0, 1], "earliest")
            seen: list[Record] = []
            fetched = await reader.fetch(500)
            seen += [(p, o, v) for p, offsets, values in fetched.parts for o, v in zip(offsets, values, strict=True)]
            await asyncio.to_thread(services.stop)
            outage = asyncio.create_task(asyncio.to_thread(services.start))
            with caplog.at_level(logging.WARNING, logger="analytics.reader"):
                while len(seen) < 4_000:  # fetches fail (logged, retried) until the broker is back
                    fetched = await asyncio.wait_for(reader.fetch(500), 60)
                    for partition, offsets, values in fetched.parts:
                        seen += [(partition, o, v) for o, v in zip(offsets, values, strict=True)]
            await outage
            assert any("retrying" in m for m in caplog.messages), "the reader never saw the broker down"
        finally:
            await reader.close()
        assert len(seen) == 4_000
        for partition in (0, 1):
            assert [o for p, o, _ in seen if p == partition] == list(range(2_000))
        assert sorted(v for _, _, v in seen if v is not None) == sorted(f"v{i}".encode() for i in range(4_000))
    finally:
        await asyncio.to_thread(services.stop)


async def test_aborted_transactions_are_never_read(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    # A real transactional producer: committed, aborted, committed again. The engine reads committed (as GetRecords
    # and the sinks do), so the aborted records must not be counted.
    topic = await new_topic(partitions=2)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"abort-{uuid.uuid4().hex}")
    plain = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    try:
        await producer.start()
        await plain.start()
        for outcome in ("commit", "abort", "commit", "abort"):
            await producer.begin_transaction()
            for i in range(40):
                await producer.send(topic, f"{outcome}-{i}".encode(), partition=i % 2)
            if outcome == "commit":
                await producer.commit_transaction()
            else:
                await producer.abort_transaction()
            await (await plain.send(topic, f"plain-after-{outcome}".encode(), partition=0))
    finally:
        await producer.stop()
        await plain.stop()
    expected = await _oracle(kafka_bootstrap, topic, 2)
    assert len(expected) == 80 + 4
    reader = PartitionReader(kafka_bootstrap, topic, max_wait_ms=200)
    await reader.start()
    try:
        reader.assign([0, 1])
        await reader.seek_to([0, 1], "earliest")
        got = await _read_all(reader, max_records=13)
    finally:
        await reader.close()
    assert got == expected
    assert not [value for _, _, value in got if value is not None and value.startswith(b"abort")]


async def test_an_open_transaction_is_not_read_until_it_commits(kafka_bootstrap: str, new_topic: TopicFactory) -> None:
    topic = await new_topic(partitions=1)
    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, transactional_id=f"open-{uuid.uuid4().hex}")
    reader = PartitionReader(kafka_bootstrap, topic, max_wait_ms=100)
    try:
        await producer.start()
        await reader.start()
        await producer.begin_transaction()
        await (await producer.send(topic, b"pending", partition=0))
        reader.assign([0])
        await reader.seek_to([0], "earliest")
        seen = [fetched for _ in range(5) if (fetched := await reader.fetch(100)).count]
        assert seen == []
        # The end of what may be read stops at the open transaction: the partition is not behind.
        assert reader.highwater(0) == reader.position(0) == 0
        await producer.commit_transaction()
        got: list[bytes | None] = []
        for _ in range(50):  # the commit marker is written asynchronously: fetch until the record is readable
            got += [v for _, _, values in (await reader.fetch(100)).parts for v in values]
            if got:
                break
        assert got == [b"pending"]
    finally:
        await reader.close()
        await producer.stop()
