"""Writing records to Kafka: batches per partition, acknowledged by every in-sync replica before we answer.

Each partition has one queue and at most one task draining it: the records of every call waiting for that
partition go into the same record batches (up to 1 MiB each), which are handed to aiokafka one at a time. The call
returns only when the broker has acknowledged every one of its records (``acks=all``), so a successful response
means the data is durable in Kafka. A failed batch fails only its own records: PutRecords reports them per record,
as Kinesis does.

Why one drainer per partition: aiokafka holds one unsent batch per partition and makes every other sender wait for
it; with many calls waiting on one partition, its wait loop runs out of time early (the time already waited is
subtracted again on every wake-up) and the waiters fail with ``KafkaTimeoutError`` while the broker is healthy. Here
only the drainer waits there, and calls arriving meanwhile share the next batch instead of each sending their own.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaTimeoutError

log = logging.getLogger(__name__)

#: Bytes per record batch; a single larger record still goes alone in its own batch.
BATCH_BYTES = 1024 * 1024
#: Kafka requests carry several partitions' batches; a 1 MiB record plus key must fit with room to spare.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class NotWritten(Exception):
    """A record failed before it was handed to the Kafka producer, so the broker never saw it."""


def never_written(outcome: object) -> bool:
    """True when a write failed before Kafka could have stored the record (refused before the producer took it, or
    timed out in the producer before being sent): a retry cannot duplicate it. Other failures may have reached the
    broker, and a retry may write the record twice."""
    return isinstance(outcome, NotWritten | KafkaTimeoutError)


@dataclass(eq=False)
class _Chunk:
    """The records of one call for one partition, in order, and their outcomes as Kafka answers."""

    records: list[tuple[bytes, bytes]]
    results: list[int | BaseException]
    done: asyncio.Future[None]
    left: int
    next: int = 0

    def settle(self, index: int, outcome: int | BaseException) -> None:
        self.results[index] = outcome
        self.left -= 1
        if self.left == 0 and not self.done.done():
            self.done.set_result(None)


@dataclass(eq=False)
class _PartitionQueue:
    chunks: deque[_Chunk] = field(default_factory=deque)
    draining: bool = False


class KafkaWriter:
    """The one producer of the API, shared by every request."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._bootstrap_servers = bootstrap_servers
        # Made in start(): a producer made here and never started (a service built but not served, as tests and
        # the CLI's checks do) is never closed, and aiokafka warns about it whenever the collector finds it.
        self._started: AIOKafkaProducer | None = None
        self._queues: dict[tuple[str, int], _PartitionQueue] = {}
        self._drainers: set[asyncio.Task[None]] = set()

    @property
    def _producer(self) -> AIOKafkaProducer:
        if self._started is None:
            raise RuntimeError("the Kafka writer is not started")
        return self._started

    async def start(self) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._bootstrap_servers,
            acks="all",
            linger_ms=0,
            max_batch_size=BATCH_BYTES,
            max_request_size=MAX_REQUEST_BYTES,
            request_timeout_ms=30_000,
            client_id="kemu-kinesis-api",
        )
        try:
            await producer.start()
        except BaseException:
            await producer.stop()  # a producer whose start failed is still open until stopped
            raise
        self._started = producer

    async def stop(self) -> None:
        for task in list(self._drainers):
            task.cancel()
        await asyncio.gather(*self._drainers, return_exceptions=True)
        if self._started is not None:
            await self._started.stop()

    async def partitions_of(self, topic: str) -> int | None:
        """How many partitions ``topic`` has, or None when it does not exist (metadata may be cached)."""
        partitions = self._producer.client.cluster.partitions_for_topic(topic)
        if partitions:
            return len(partitions)
        try:
            partitions = await asyncio.wait_for(self._producer.partitions_for(topic), timeout=5)
        except Exception:
            return None
        return len(partitions) if partitions else None

    async def refresh_metadata(self) -> None:
        """Ask the cluster for fresh metadata now (partitions added to a topic show up at the next refresh)."""
        await self._producer.client.force_metadata_update()

    def forget(self, topic: str) -> None:
        """Stop tracking a deleted topic: the producer's client asks the broker about every topic it ever wrote to,
        at each metadata refresh, and logs an ERROR for each one that is gone. aiokafka has no public way to read
        the tracked set, hence the private attribute; ``set_topics`` itself is public."""
        client = self._producer.client
        tracked: set[str] = set(getattr(client, "_topics", ()))
        if topic in tracked:
            client.set_topics(tracked - {topic})
        for key in [key for key, queue in self._queues.items() if key[0] == topic and not queue.draining]:
            del self._queues[key]

    async def write(self, topic: str, records: Sequence[tuple[int, bytes, bytes]]) -> list[int | BaseException]:
        """Write ``(partition, key, value)`` records; the result at index i is record i's offset, or its error."""
        by_partition: dict[int, list[int]] = {}
        for index, record in enumerate(records):
            members = by_partition.get(record[0])
            if members is None:
                by_partition[record[0]] = [index]
            else:
                members.append(index)
        loop = asyncio.get_running_loop()
        chunks: list[tuple[list[int], _Chunk]] = []
        for partition, indexes in by_partition.items():
            chunk = _Chunk(
                records=[(records[i][1], records[i][2]) for i in indexes],
                results=[0] * len(indexes),
                done=loop.create_future(),
                left=len(indexes),
            )
            chunks.append((indexes, chunk))
            queue = self._queues.get((topic, partition))
            if queue is None:
                queue = self._queues[(topic, partition)] = _PartitionQueue()
            queue.chunks.append(chunk)
            if not queue.draining:
                queue.draining = True
                task = loop.create_task(self._drain(topic, partition, queue))
                self._drainers.add(task)
                task.add_done_callback(self._drainers.discard)
        await asyncio.gather(*(chunk.done for _, chunk in chunks))
        results: list[int | BaseException] = [0] * len(records)
        for indexes, chunk in chunks:
            for index, outcome in zip(indexes, chunk.results, strict=True):
                results[index] = outcome
        failures = [outcome for outcome in results if isinstance(outcome, BaseException)]
        if failures:
            log.warning("writing %d of %d records to %s failed: %r", len(failures), len(records), topic, failures[0])
        return results

    async def _drain(self, topic: str, partition: int, queue: _PartitionQueue) -> None:
        """Send the queue's records in batches until it is empty; every record gets its outcome, whatever fails."""
        try:
            while queue.chunks:
                batch, members = self._fill(queue)
                try:
                    future = await self._producer.send_batch(batch, topic, partition=partition)
                except BaseException as exc:  # never handed to the producer: not written
                    self._settle(members, NotWritten(repr(exc)))
                    if not isinstance(exc, Exception):
                        raise
                    continue
                future.add_done_callback(lambda done, of=members: self._acknowledged(of, done))
        except BaseException:  # cancelled at stop: nobody may wait forever
            for chunk in queue.chunks:
                for index in range(chunk.next, len(chunk.records)):
                    chunk.settle(index, NotWritten("the endpoint is stopping"))
            queue.chunks.clear()
            raise
        finally:
            queue.draining = False
            if not queue.chunks:
                self._queues.pop((topic, partition), None)

    def _fill(self, queue: _PartitionQueue) -> tuple[Any, list[tuple[_Chunk, int]]]:
        """One closed batch of the queue's next records, and which (chunk, index) each position holds."""
        batch = self._producer.create_batch()
        members: list[tuple[_Chunk, int]] = []
        while queue.chunks:
            chunk = queue.chunks[0]
            while chunk.next < len(chunk.records):
                key, value = chunk.records[chunk.next]
                if batch.append(key=key, value=value, timestamp=None) is None:  # full (never when empty)
                    batch.close()
                    return batch, members
                members.append((chunk, chunk.next))
                chunk.next += 1
            queue.chunks.popleft()
        batch.close()
        return batch, members

    @staticmethod
    def _settle(members: list[tuple[_Chunk, int]], outcome: BaseException) -> None:
        for chunk, index in members:
            chunk.settle(index, outcome)

    def _acknowledged(self, members: list[tuple[_Chunk, int]], done: asyncio.Future[Any]) -> None:
        if done.cancelled():
            self._settle(members, KafkaTimeoutError())
            return
        error = done.exception()
        if error is not None:
            self._settle(members, error)
            return
        base = int(done.result().offset)
        for position, (chunk, index) in enumerate(members):
            chunk.settle(index, base + position)

    async def send_json(self, topic: str, key: bytes, value: bytes | None) -> None:
        """Write one record (or a tombstone) and wait for its acknowledgement: the metadata topic's path."""
        await self._producer.send_and_wait(topic, key=key, value=value)
