"""The async path to Kafka: aiokafka, idempotent, ``acks=all``, one record batch per partition at a time.

aiokafka is slow per message, so records are appended to ``BatchBuilder`` objects and submitted with
``send_batch`` to a partition we choose ourselves (the Kinesis MD5 rule). Per-key order holds because a key
always maps to one partition, the batches of a partition are submitted in order, aiokafka queues at most one
pending batch per partition and keeps one produce request per broker in flight, and the idempotent producer's
sequence numbers make its retries neither reorder nor duplicate. Memory is bounded twice: ``send_batch`` waits
while the partition's previous batch is still queued, and :meth:`KafkaPublisher.send` waits while more than
``max_unacked_records`` records are unacknowledged.
"""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from foundation.lifecycle import AsyncResource
from producers.config import KafkaPublisherConfig
from producers.exceptions import DeliveryError, ProducerConfigError
from producers.records import PartitionMapper, Record
from producers.shard_map import ShardMap

#: Records carry no headers; one shared empty list (the C builder only reads it).
_NO_HEADERS: list[tuple[str, bytes]] = []


@dataclass
class SendStats:
    """What happened to the records handed to a publisher."""

    sent: int = 0
    acknowledged: int = 0
    failed: int = 0
    errors: Counter[str] = field(default_factory=Counter)

    @property
    def unacknowledged(self) -> int:
        return self.sent - self.acknowledged - self.failed


async def ensure_stream(bootstrap_servers: str, stream: str, shards: int) -> int:
    """Create the topic of ``stream`` with ``shards`` partitions if it is missing; returns its partition count.

    Existence is checked by listing topics: a metadata request naming the topic would make a broker with
    ``auto.create.topics.enable`` create it with its default partition count, behind our back.
    """
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="kemu-producer-admin")
    try:
        await admin.start()
        if stream not in await admin.list_topics():
            try:
                await admin.create_topics([NewTopic(stream, num_partitions=shards, replication_factor=1)])
                return shards
            except TopicAlreadyExistsError:  # created by someone else in between
                pass
        topics = await admin.describe_topics([stream])
        return len(topics[0]["partitions"])
    except KafkaError as exc:
        raise DeliveryError(f"could not look up or create stream {stream!r} on {bootstrap_servers}: {exc}") from exc
    finally:
        await admin.close()


class KafkaPublisher(AsyncResource):
    """Writes records to one topic:
    ``async with KafkaPublisher(config, topic) as publisher: await publisher.send(records)``."""

    def __init__(self, config: KafkaPublisherConfig, topic: str, shard_map: ShardMap | None = None) -> None:
        """``shard_map`` routes keys to a resharded stream's open shards (the Kinesis API keeps it); without one the
        topic's partitions split the hash-key space evenly, as for a stream created with that many shards."""
        self._config = config
        self.topic = topic
        self._shard_map = shard_map
        self.stats = SendStats()
        self._producer: AIOKafkaProducer | None = None
        self._mapper: PartitionMapper | None = None
        self._pending: set[asyncio.Future[Any]] = set()
        self._unacked = 0

    async def start(self) -> None:
        c = self._config
        producer = AIOKafkaProducer(
            bootstrap_servers=c.bootstrap_servers,
            client_id=c.client_id,
            acks="all",
            enable_idempotence=True,
            max_batch_size=c.max_batch_bytes,
            max_request_size=max(c.max_batch_bytes, 1_048_576),
            linger_ms=c.linger_ms,
            request_timeout_ms=c.request_timeout_ms,
            retry_backoff_ms=c.retry_backoff_ms,
        )
        try:
            try:
                await producer.start()
                partitions = await producer.partitions_for(self.topic)
            except KafkaError as exc:
                raise DeliveryError(f"could not connect to Kafka at {c.bootstrap_servers}: {exc}") from exc
            if not partitions:
                raise ProducerConfigError(f"stream {self.topic!r} does not exist; create it first")
            probe = producer.create_batch()
            if not hasattr(probe, "_builder") or not hasattr(probe, "_relative_offset"):
                # send() uses these aiokafka 0.14 internals; fail loudly rather than mis-count sequence numbers.
                raise ProducerConfigError("this aiokafka version lacks BatchBuilder internals kemu relies on; use 0.14")
            shard_map = self._shard_map
            if shard_map is not None and len(partitions) < len(shard_map):
                raise DeliveryError(
                    f"stream {self.topic!r} has {len(partitions)} partitions but its shard map {len(shard_map)} "
                    "shards; wait until its reshard completes"
                )
        except BaseException:
            # Cancelled or failed: a producer that will not be used is closed here, or it warns when collected.
            await producer.stop()
            raise
        self._producer = producer
        self._mapper = PartitionMapper(shard_map if shard_map is not None else len(partitions))

    @property
    def partitions(self) -> int:
        if self._mapper is None:
            raise RuntimeError("the publisher is not started")
        return self._mapper.shards

    async def send(self, records: Sequence[Record]) -> None:
        """Append ``records`` to per-partition batches and submit them; returns once they are queued.

        One pass, one open batch per partition; a batch that fills up is submitted at once and a new one started,
        so a partition's records still go out in their order. Records are appended to aiokafka's C record-batch
        builder directly: its Python ``BatchBuilder.append`` wrapper (keyword arguments, a serializer hook, an
        offset counter) cost more than the C append itself. We keep the wrapper's offset counter ourselves and set
        it before submitting, because the idempotent producer's sequence numbers advance by that count.
        """
        producer, mapper = self._producer, self._mapper
        if producer is None or mapper is None:
            raise RuntimeError("the publisher is not started")
        cached = mapper.cache.get
        locate = mapper.shard_and_key_bytes
        builders: list[Any] = [None] * mapper.shards
        appends: list[Any] = [None] * mapper.shards
        counts = [0] * mapper.shards
        for key, value in records:
            found = cached(key)
            partition, key_bytes = found if found is not None else locate(key)
            append = appends[partition]
            if append is None:
                builders[partition] = builder = producer.create_batch()
                appends[partition] = append = builder._builder.append
            count = counts[partition]
            if append(count, None, key_bytes, value, _NO_HEADERS) is None:  # the batch is full
                await self._submit(producer, builders[partition], partition, count)
                builders[partition] = builder = producer.create_batch()
                appends[partition] = append = builder._builder.append
                count = 0
                if append(count, None, key_bytes, value, _NO_HEADERS) is None:
                    self.stats.sent += 1
                    self.stats.failed += 1
                    self.stats.errors["record larger than the maximum batch size"] += 1
                    counts[partition] = 0
                    continue
            counts[partition] = count + 1
        for partition, builder in enumerate(builders):
            if builder is not None:
                await self._submit(producer, builder, partition, counts[partition])

    async def _submit(self, producer: AIOKafkaProducer, builder: Any, partition: int, count: int) -> None:
        if count == 0:
            return
        builder._relative_offset = count  # what BatchBuilder.append would have counted; see send()
        builder.close()  # as BatchBuilder.append does once full: nothing else may add to a submitted batch
        self.stats.sent += count
        try:
            future = await producer.send_batch(builder, self.topic, partition=partition)
        except KafkaError as exc:
            self.stats.failed += count
            self.stats.errors[type(exc).__name__] += 1
            return
        self._unacked += count
        self._pending.add(future)
        future.add_done_callback(lambda f: self._on_done(f, count))
        while self._unacked > self._config.max_unacked_records and self._pending:
            await asyncio.wait(set(self._pending), return_when=asyncio.FIRST_COMPLETED)

    def _on_done(self, future: asyncio.Future[Any], count: int) -> None:
        self._pending.discard(future)
        self._unacked -= count
        if future.cancelled():
            self.stats.failed += count
            self.stats.errors["cancelled"] += 1
        elif (exc := future.exception()) is not None:
            self.stats.failed += count
            self.stats.errors[type(exc).__name__] += 1
        else:
            self.stats.acknowledged += count

    async def flush(self) -> None:
        """Wait until every submitted record is acknowledged or has failed."""
        if self._producer is not None:
            await self._producer.flush()
        if self._pending:
            await asyncio.wait(set(self._pending))

    async def stop(self) -> None:
        """Flush, then close the producer."""
        if self._producer is None:
            return
        try:
            await self.flush()
        finally:
            await self._producer.stop()
            self._producer = None
