"""Reading shards: one long-lived aiokafka consumer per (topic, partition), without a consumer group.

GetRecords calls of one shard usually continue where the last one stopped, so each shard keeps its consumer and
its prefetched data; a call for another position seeks. Consumers read committed data only (so aborted
transactional writes of other components never show up as records), and a bounded LRU pool caps the number of
open connections. ``MillisBehindLatest`` is the arrival time of the newest record in the shard minus that of the
last record returned (0 at the tip), which a small probe consumer looks up once per new end offset.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition

from emulator.aws.protocol import AwsTimestamp
from emulator.kinesis import sequence

log = logging.getLogger(__name__)

MAX_PARTITION_FETCH_BYTES = 10 * 1024 * 1024


def _consumer(bootstrap_servers: str) -> AIOKafkaConsumer:
    return AIOKafkaConsumer(
        bootstrap_servers=bootstrap_servers,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        isolation_level="read_committed",
        fetch_max_wait_ms=100,
        fetch_max_bytes=64 * 1024 * 1024,
        max_partition_fetch_bytes=MAX_PARTITION_FETCH_BYTES,
        client_id="kemu-kinesis-api",
    )


@dataclass(frozen=True, slots=True)
class ShardRead:
    """What one read found: records (aiokafka ``ConsumerRecord``), where to continue, and how far behind."""

    records: list[Any]
    next_offset: int
    millis_behind: int


class ShardReader:
    """Reads one partition; one call at a time (a lock), positions given by the caller."""

    def __init__(self, bootstrap_servers: str, topic: str, partition: int) -> None:
        self.tp = TopicPartition(topic, partition)
        self._consumer = _consumer(bootstrap_servers)
        self._lock = asyncio.Lock()
        self._next: int | None = None
        self._tip: tuple[int, int] | None = None  # (end offset, timestamp of the record before it)

    async def start(self) -> None:
        await self._consumer.start()
        self._consumer.assign([self.tp])

    async def stop(self) -> None:
        async with self._lock:  # never under a read in progress
            await self._consumer.stop()

    async def bounds(self) -> tuple[int, int]:
        """(first offset still kept, offset the next record will get)."""
        begin = await self._consumer.beginning_offsets([self.tp])
        end = await self._consumer.end_offsets([self.tp])
        return int(begin[self.tp]), int(end[self.tp])

    async def offset_at(self, timestamp_ms: int) -> int:
        """Offset of the first record that arrived at or after ``timestamp_ms`` (the end when there is none)."""
        found = await self._consumer.offsets_for_times({self.tp: timestamp_ms})
        hit = found.get(self.tp)
        if hit is None:
            return (await self.bounds())[1]
        return int(hit.offset)

    async def read(self, offset: int, limit: int, max_bytes: int, wait_s: float, probe: TipProbe) -> ShardRead:
        async with self._lock:
            consumer = self._consumer
            end: int | None = None
            if self._next != offset:
                # Past the end Kafka would answer "out of range" and the consumer reset to the log start: a
                # position beyond the end can only come from a forged or stale iterator, and reads as the tip.
                end = int((await consumer.end_offsets([self.tp]))[self.tp])
                if offset > end:
                    return ShardRead([], offset, 0)
                consumer.seek(self.tp, offset)
            self._next = None
            batch = await consumer.getmany(self.tp, timeout_ms=0, max_records=limit)
            records = batch.get(self.tp, [])
            if not records:
                if end is None:
                    end = int((await consumer.end_offsets([self.tp]))[self.tp])
                if offset < end:
                    batch = await consumer.getmany(self.tp, timeout_ms=int(wait_s * 1000), max_records=limit)
                    records = batch.get(self.tp, [])
            records, trimmed = _trim(records, max_bytes)
            if trimmed:
                next_offset = records[-1].offset + 1
                consumer.seek(self.tp, next_offset)
            else:
                next_offset = int(await consumer.position(self.tp))
            self._next = next_offset
            known = consumer.last_stable_offset(self.tp)
            if known is not None and known >= 0 and (end is None or known > end):
                end = int(known)
            if end is None:
                end = int((await consumer.end_offsets([self.tp]))[self.tp])
        if next_offset >= end:
            return ShardRead(records, next_offset, 0)
        tip_ts = await probe.timestamp_before(self.tp, end, self._tip)
        if tip_ts is None:
            return ShardRead(records, next_offset, 0)
        self._tip = (end, tip_ts)
        last_ts = records[-1].timestamp if records else tip_ts
        return ShardRead(records, next_offset, max(0, tip_ts - last_ts))


def wire_records(shard: int, records: list[Any]) -> list[dict[str, Any]]:
    """Records read from Kafka as Kinesis' ``Record`` shape, as GetRecords and SubscribeToShard events carry them."""
    return [
        {
            "SequenceNumber": sequence.encode(shard, record.offset),
            "ApproximateArrivalTimestamp": AwsTimestamp(record.timestamp),
            "Data": record.value or b"",
            "PartitionKey": (record.key or b"").decode("utf-8", errors="replace"),
        }
        for record in records
    ]


def _trim(records: list[Any], max_bytes: int) -> tuple[list[Any], bool]:
    total = 0
    for index, record in enumerate(records):
        total += len(record.value or b"") + len(record.key or b"")
        if total > max_bytes and index > 0:
            return records[:index], True
    return records, False


class TipProbe:
    """Finds the arrival time of a partition's newest record, for ``MillisBehindLatest``."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._consumer = _consumer(bootstrap_servers)
        self._lock = asyncio.Lock()

    async def start(self) -> None:
        await self._consumer.start()

    async def stop(self) -> None:
        await self._consumer.stop()

    async def timestamp_before(self, tp: TopicPartition, end: int, cached: tuple[int, int] | None) -> int | None:
        if cached is not None and cached[0] == end:
            return cached[1]
        async with self._lock:
            self._consumer.assign([tp])
            self._consumer.seek(tp, max(0, end - 1))
            batch = await self._consumer.getmany(tp, timeout_ms=1000)
        records = batch.get(tp, [])
        # The offset before the end may be a transaction marker: then the newest data record we saw stands in.
        return int(records[-1].timestamp) if records else (cached[1] if cached else None)

    async def forget(self, topic: str) -> None:
        """Let go of a deleted topic: an assigned partition keeps the client asking the broker about its topic, which
        logs an ERROR at each metadata refresh once the topic is gone."""
        async with self._lock:
            if any(tp.topic == topic for tp in self._consumer.assignment()):
                self._consumer.unsubscribe()


class ReaderPool:
    """At most ``size`` shard readers, least recently used closed first; plus the shared tip probe."""

    def __init__(self, bootstrap_servers: str, size: int = 64) -> None:
        self._bootstrap = bootstrap_servers
        self._size = size
        self._readers: OrderedDict[tuple[str, int], ShardReader] = OrderedDict()
        self._lock = asyncio.Lock()
        self.probe = TipProbe(bootstrap_servers)

    async def start(self) -> None:
        await self.probe.start()

    async def stop(self) -> None:
        readers = list(self._readers.values())
        self._readers.clear()
        for reader in readers:
            with contextlib.suppress(Exception):
                await reader.stop()
        await self.probe.stop()

    async def get(self, topic: str, partition: int) -> ShardReader:
        key = (topic, partition)
        reader = self._readers.get(key)
        if reader is not None:
            self._readers.move_to_end(key)
            return reader
        async with self._lock:
            reader = self._readers.get(key)
            if reader is None:
                reader = ShardReader(self._bootstrap, topic, partition)
                await reader.start()
                self._readers[key] = reader
                while len(self._readers) > self._size:
                    _, evicted = self._readers.popitem(last=False)
                    await evicted.stop()
            return reader

    async def forget(self, topic: str) -> None:
        """Close the readers of a deleted stream, and let the tip probe go of it."""
        await self.probe.forget(topic)
        for key in [key for key in self._readers if key[0] == topic]:
            reader = self._readers.pop(key)
            with contextlib.suppress(Exception):
                await reader.stop()
