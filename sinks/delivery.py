"""One delivery stream at work: consume a topic, buffer per partition, write objects, then commit.

The write protocol, per flush (all buffered partitions at once):

1. commit, for every partition in the flush, its *current* position with the planned cut as metadata
   (``kemu-cut:<last offset>``): the boundary of the objects about to be written is durable before any is;
2. let the write worker (a child process, :mod:`sinks.worker`) PUT every object and the schema registry if it grew
   (retrying while S3 is away); it converted the buffers already, while the write before was committing;
3. commit the offsets after the cut, with empty metadata.

After a crash anywhere in between, a restart finds the planned cut in the committed metadata, re-reads exactly
those records (other partitions wait), writes the same keys with the same bytes, and only then goes on. Object
boundaries therefore never differ between the first attempt and the replay, so objects never overlap.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import ConsumerRecord, OffsetAndMetadata, TopicPartition

from sinks.buffering import FlushReason, PartitionBuffer, admits, decode_plan, encode_plan, flush_reason
from sinks.config import DeliveryStreamConfig, S3Connection
from sinks.exceptions import SinkError
from sinks.prefixes import KeyLayout
from sinks.worker import WORKER_MODULE, WriteWorker

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Called with the data objects of each write once they are all in S3, before the write's offsets are committed
#: (a crash in between rewrites the same keys and calls it again with them): a catalog registers their partitions.
OnWrite = Callable[[tuple[str, ...]], Awaitable[None]]
#: Writes handed to the worker and not committed yet: one uploading, one converting, while the next buffer fills.
MAX_OUTSTANDING = 2
#: Records taken per poll. aiokafka turns every record it hands out into a ``ConsumerRecord`` at once: without a cap, a
#: poll after a fetch of many partitions (up to 1 MiB each) held all of them as objects, about twice their size.
RECORDS_PER_POLL = 4_096
#: Objects a delivery stream's loop allocates per poll, about (a ``ConsumerRecord`` and a little more per record):
#: a process that only delivers raises the collector's gen-0 threshold above it (``kemu sink run``).
ALLOCATIONS_PER_POLL = 16_384


@dataclass
class DeliveryStats:
    """Counters of one delivery stream since it started; read by the CLI's progress line."""

    name: str
    records_in: int = 0
    records_delivered: int = 0
    records_failed: int = 0
    objects: int = 0
    error_objects: int = 0
    bytes_written: int = 0
    flushes: int = 0
    lag: int = 0
    buffered_bytes: int = 0
    s3_retries: int = 0
    s3_waiting: bool = False
    recovered_cuts: int = 0
    #: Write workers started again after one died.
    worker_restarts: int = 0
    #: ``time.monotonic()`` when the first record arrived, and when the last write finished (sustained rates).
    first_record_at: float | None = None
    last_write_at: float | None = None
    last_flush_reason: str | None = None
    #: Key of the newest data object written (the greatest key of the last write that wrote any).
    last_key: str | None = None
    flush_reasons: dict[str, int] = field(default_factory=dict)


class DeliveryStream:
    """Delivers ``config.source_topic`` to S3. Use :meth:`run` with an event that stops it.

    One process per delivery stream: partitions are assigned manually (no group rebalancing, so a restart after
    ``kill -9`` resumes at once), and the consumer group only stores the committed offsets and the planned cut.
    """

    def __init__(
        self,
        config: DeliveryStreamConfig,
        bootstrap_servers: str,
        s3: S3Connection,
        *,
        poll_timeout_ms: int = 200,
        stop_when_caught_up: bool = False,
        worker_module: str = WORKER_MODULE,
        on_write: OnWrite | None = None,
    ) -> None:
        """``worker_module`` is the module the write worker process runs (tests run one with a guard removed);
        ``on_write`` sees the data objects of every write (its failure is logged; delivery goes on)."""
        if not config.bucket:
            raise SinkError(f"delivery stream {config.name!r} has no bucket")
        self.config = config
        self.layout = KeyLayout.from_prefixes(config.prefix, config.error_output_prefix)
        self._bootstrap = bootstrap_servers
        self._s3 = s3
        self._poll_timeout_ms = poll_timeout_ms
        self._stop_when_caught_up = stop_when_caught_up
        self._stats = DeliveryStats(config.name)
        self._worker = WriteWorker(config, s3, worker_module)
        self._on_write = on_write
        self._stop: asyncio.Event | None = None
        self._buffers: dict[int, PartitionBuffer] = {}
        self._cuts: dict[int, int] = {}
        self._committed: dict[int, int] = {}
        self._oldest: float | None = None
        #: Writes handed to the worker and not yet committed, oldest first (at most ``MAX_OUTSTANDING``).
        self._writes: list[asyncio.Task[None]] = []
        self._consumer: AIOKafkaConsumer | None = None
        self._tps: list[TopicPartition] = []

    async def run(self, stop: asyncio.Event) -> DeliveryStats:
        """Deliver until ``stop`` is set (then write what is buffered) or, optionally, until caught up."""
        self._stop = stop
        # The worker starts (imports, loads the schema, cleans uploads) while the consumer connects.
        ready = asyncio.create_task(self._worker.start(), name=f"worker-start-{self.config.name}")
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._bootstrap,
            group_id=self.config.group_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            isolation_level="read_committed",
            **consumer_fetch_settings(self.config),
        )
        self._consumer = consumer
        try:
            await consumer.start()
            await self._assign(consumer)
            await ready
            await self._loop(consumer, stop)
        finally:
            await self._abandon_writes()
            self._consumer = None
            if not ready.done():
                ready.cancel()
            await consumer.stop()
            await self._worker.close()
        return self.stats

    @property
    def stats(self) -> DeliveryStats:
        """Live counters (safe to read from another task while the stream runs)."""
        self._stats.s3_retries = self._worker.retries
        self._stats.s3_waiting = self._worker.waiting
        self._stats.worker_restarts = self._worker.restarts
        if self._consumer is not None:
            self._update_lag(self._consumer)  # live, also while a write waits for S3
        return self._stats

    async def _assign(self, consumer: AIOKafkaConsumer) -> None:
        topic = self.config.source_topic
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap)
        try:
            await admin.start()
            # Checked by listing first: a metadata request for a missing topic may auto-create it on the broker.
            if topic not in await admin.list_topics():
                raise SinkError(f"source topic {topic!r} of delivery stream {self.config.name!r} does not exist")
            described = await admin.describe_topics([topic])
            partitions = sorted(p["partition"] for p in described[0]["partitions"])
            tps = [TopicPartition(topic, p) for p in partitions]
            committed = await retry_kafka(
                lambda: admin.list_consumer_group_offsets(self.config.group_id, partitions=tps)
            )
        finally:
            await admin.close()
        consumer.assign(tps)
        self._tps = tps  # only now: ``stats`` (read by other tasks) asks the consumer about these partitions
        for tp in self._tps:
            found = committed.get(tp)
            if found is not None and found.offset >= 0:
                consumer.seek(tp, found.offset)
                self._committed[tp.partition] = found.offset
                cut = decode_plan(found.metadata)
                if cut is not None:
                    self._cuts[tp.partition] = cut
            else:
                await consumer.seek_to_beginning(tp)
                self._committed[tp.partition] = await consumer.position(tp)
        if self._cuts:
            self._stats.recovered_cuts = len(self._cuts)
            log.info("resuming an interrupted write: cuts %s", self._cuts)
            consumer.pause(*[tp for tp in self._tps if tp.partition not in self._cuts])

    async def _loop(self, consumer: AIOKafkaConsumer, stop: asyncio.Event) -> None:
        hints = self.config.buffering
        while not stop.is_set():
            timeout = self._poll_timeout_ms
            if self._oldest is not None:
                left = hints.interval_s - (time.monotonic() - self._oldest)
                timeout = max(0, min(timeout, int(left * 1000)))
            self._raise_if_write_failed()
            batches = await consumer.getmany(timeout_ms=timeout, max_records=RECORDS_PER_POLL)
            for tp, records in batches.items():
                self._add(consumer, tp, records)
            if self._cuts:
                if await self._cuts_reached(consumer):
                    await self._flush(FlushReason.RECOVERY)
                    await self._drain()
                    self._cuts.clear()
                    consumer.resume(*self._tps)
                continue
            age = None if self._oldest is None else time.monotonic() - self._oldest
            reason = flush_reason(hints, self._stats.buffered_bytes, age)
            if reason is not None:
                await self._flush(reason)
            self._update_lag(consumer)
            if self._stop_when_caught_up and await self._caught_up(consumer):
                break  # the shutdown write below delivers the rest without waiting for the interval
        if not self._cuts:  # a pending cut must be written whole, never cut short by a shutdown
            await self._flush(FlushReason.SHUTDOWN)
        await self._drain()

    def _add(self, consumer: AIOKafkaConsumer, tp: TopicPartition, records: list[ConsumerRecord[bytes, bytes]]) -> None:
        buffer = self._buffers.get(tp.partition)
        if buffer is None:
            buffer = self._buffers[tp.partition] = PartitionBuffer(tp.partition)
        cut = self._cuts.get(tp.partition)
        if cut is not None and records and records[-1].offset > cut:
            # Past the planned cut: keep what belongs to the interrupted write, read the rest again after it.
            records = [r for r in records if admits(cut, r.offset)]
            consumer.seek(tp, cut + 1)
            consumer.pause(tp)
        if not records:
            return
        # Column-wise list comprehensions: this runs once per record, so no per-record method call.
        values = [r.value or b"" for r in records]
        size = sum(map(len, values))
        buffer.extend([r.offset for r in records], [r.timestamp for r in records], values, size)
        if self._oldest is None:
            self._oldest = time.monotonic()
        if self._stats.first_record_at is None:
            self._stats.first_record_at = time.monotonic()
        self._stats.records_in += len(values)
        self._stats.buffered_bytes += size

    async def _cuts_reached(self, consumer: AIOKafkaConsumer) -> bool:
        for partition, cut in self._cuts.items():
            buffer = self._buffers.get(partition)
            if buffer is not None and len(buffer) and buffer.last_offset >= cut:
                continue
            if await consumer.position(TopicPartition(self.config.source_topic, partition)) > cut:
                continue
            return False
        return True

    async def _caught_up(self, consumer: AIOKafkaConsumer) -> bool:
        for tp in self._tps:
            high = consumer.highwater(tp)
            if high is None or await consumer.position(tp) < high:
                return False
        return True

    def _update_lag(self, consumer: AIOKafkaConsumer) -> None:
        lag = 0
        for tp in self._tps:
            high = consumer.highwater(tp)
            if high is not None:
                lag += max(0, high - self._committed.get(tp.partition, 0))
        self._stats.lag = lag

    async def _flush(self, reason: FlushReason) -> None:
        """Hand the filled buffers to the worker (it converts them at once) and queue their write.

        Writes commit strictly one after another (each waits for the one before, so their commits never
        interleave), and at most ``MAX_OUTSTANDING`` are outstanding: a third waits for the oldest, so consumption
        pauses (memory bounded by a few buffers) while S3 is slow or away, and goes on while the worker keeps up.
        """
        buffers = [b for _, b in sorted(self._buffers.items()) if len(b)]
        if not buffers:
            return
        self._buffers = {}
        self._stats.buffered_bytes = 0
        self._oldest = None
        self._raise_if_write_failed()
        while len(self._writes) >= MAX_OUTSTANDING:
            oldest = self._writes.pop(0)
            await oldest
        job = await self._worker.submit(buffers)
        bounds = [(b.partition, b.first_offset, b.last_offset) for b in buffers]
        del buffers
        after = self._writes[-1] if self._writes else None
        task = asyncio.create_task(self._write(job, bounds, reason, after), name=f"write-{self.config.name}-{job}")
        self._writes.append(task)

    async def _drain(self) -> None:
        """Wait for every outstanding write; the first error (S3 refused, stop requested) surfaces here."""
        while self._writes:
            oldest = self._writes.pop(0)
            await oldest

    def _raise_if_write_failed(self) -> None:
        while self._writes and self._writes[0].done():
            self._writes.pop(0).result()

    async def _abandon_writes(self) -> None:
        """On the way out after an error: stop the writes still queued (nothing of theirs is committed)."""
        writes, self._writes = self._writes, []
        for task in writes:
            task.cancel()
        await asyncio.gather(*writes, return_exceptions=True)

    async def _write(
        self, job: int, bounds: list[tuple[int, int, int]], reason: FlushReason, after: asyncio.Task[None] | None
    ) -> None:
        """Plan, let the worker upload ``job``, commit. ``bounds``: (partition, first offset, last offset).

        ``after`` is the write before this one: this write's plan is committed only once that one is committed."""
        if after is not None:
            await asyncio.shield(after)  # its failure fails this write too; it is reported where it is awaited
        consumer = self._consumer
        if consumer is None:  # pragma: no cover - writes only run while the consumer is up
            raise SinkError("the consumer stopped before the write")
        topic = self.config.source_topic
        started = time.monotonic()
        await consumer.commit(
            {TopicPartition(topic, p): OffsetAndMetadata(first, encode_plan(last)) for p, first, last in bounds}
        )
        # When the worker answers, every object of the write is complete in S3.
        await self._worker.go(job)
        result = await self._worker.result(job, self._stop)
        if self._on_write is not None and result.data_keys:
            try:
                await self._on_write(result.data_keys)
            except Exception:
                log.warning("the write callback of %r failed; delivery goes on", self.config.name, exc_info=True)
        await consumer.commit({TopicPartition(topic, p): OffsetAndMetadata(last + 1, "") for p, _, last in bounds})
        for partition, _, last in bounds:
            self._committed[partition] = last + 1
        self._stats.records_failed += result.records_failed
        self._stats.records_delivered += result.records_delivered
        self._stats.objects += result.objects
        self._stats.error_objects += result.error_objects
        self._stats.bytes_written += result.bytes_written
        self._stats.last_key = result.last_key or self._stats.last_key
        self._stats.flushes += 1
        self._stats.last_flush_reason = reason.value
        self._stats.flush_reasons[reason.value] = self._stats.flush_reasons.get(reason.value, 0) + 1
        self._stats.last_write_at = time.monotonic()
        log.debug("wrote %d objects in %.3f s (%s)", result.objects, time.monotonic() - started, reason.value)


async def retry_kafka(call: Callable[[], Awaitable[T]], attempts: int = 60) -> T:
    """Retry a Kafka request on retriable errors (a fresh broker has no group coordinator for a few seconds), every
    0.5 s, ``attempts`` times; a non-retriable error, or the last one, is raised. Firehose's commits use it too."""
    for attempt in range(attempts):
        try:
            return await call()
        except KafkaError as exc:
            if not exc.retriable or attempt == attempts - 1:
                raise
            await asyncio.sleep(0.5)
    raise SinkError("unreachable")  # pragma: no cover - the loop returns or raises


def consumer_fetch_settings(config: DeliveryStreamConfig) -> dict[str, Any]:
    """aiokafka fetch settings of a delivery stream's consumer (the benchmark's ceiling consumer uses the same)."""
    return {
        "fetch_max_bytes": min(config.buffering.size_bytes, 50 * 1024 * 1024),
        "max_partition_fetch_bytes": min(config.buffering.size_bytes, 1024 * 1024),
    }
