"""A scale-out worker: one member of a query's consumer group, running the query over the partitions it owns.

Membership is a real Kafka consumer group (``kemu-analytics-<query>``): Kafka assigns the source partitions among
the workers, rebalances when one joins, leaves or dies (its session times out), and shows the members, their
partitions and their committed offsets to ``kafka-consumer-groups --describe``. The consumer only holds the
membership (its partitions stay paused); the records come from the engine's own partition reader.

Each owned partition has its own operator (:class:`PartitionOperator`) and its own checkpoint file (state, next
offset and watermark of that partition), so a partition that moves carries its state with it: the new owner restores
that partition's checkpoint and resumes at its offset. Every ``checkpoint_interval_s`` the worker flushes: it
publishes each partition's partials and progress to the partials topic, waits until Kafka acknowledged them (and the
late events and errors before them), then writes the partitions' checkpoints, then commits the same offsets as the
group member (fenced by the group's generation: a member that was replaced cannot commit). When the group takes
partitions away, the worker flushes before it lets them go, so their next owner starts from where it stopped; when a
worker is killed, the next owner starts from the last checkpoint and the records after it are processed again,
producing the same partials for the same offsets, which replace the first copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from analytics.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from analytics.compiler import CompiledQuery
from analytics.config import AnalyticsConfig
from analytics.decode import Decoder
from analytics.emissions import BatchOutcome
from analytics.isolation import FailureStreak, process_batch
from analytics.outputs import outcome_records
from analytics.reader import Fetched, PartitionReader
from analytics.runner import ensure_topics, now_ms
from analytics.scaleout.partials import (
    Partial,
    Progress,
    ScaleOutError,
    encode_partial,
    encode_progress,
    group_name,
    partials_topic,
    refusal,
)
from analytics.scaleout.partition_operator import PartitionOperator

log = logging.getLogger(__name__)

#: How long a rebalance waits for the worker to flush the partitions it gives up before it lets them go anyway.
_RELEASE_TIMEOUT_S = 60.0
#: Offset commits are for tooling; one that hangs (the group rebalancing) must not hold the worker.
_COMMIT_TIMEOUT_S = 5.0


async def describe_source(bootstrap: str, topic: str, stop: asyncio.Event) -> tuple[list[int], str | None]:
    """The source topic's partitions (waiting, and saying so every 30 s, until it exists or ``stop``) and the
    cluster's id."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        cluster_id = (await admin.describe_cluster()).get("cluster_id")
        waited = 0.0
        while not stop.is_set():
            described = await admin.describe_topics([topic])
            partitions = [p["partition"] for d in described if not d.get("error_code") for p in d["partitions"]]
            if partitions:
                return sorted(partitions), cluster_id
            if waited % 30 == 0:
                log.warning("waiting for the source topic %r to exist", topic)
            await asyncio.sleep(0.5)
            waited += 0.5
    finally:
        await admin.close()
    return [], None


class _Membership(ConsumerRebalanceListener):  # type: ignore[misc]
    def __init__(self, worker: GroupWorker) -> None:
        self.worker = worker

    async def on_partitions_revoked(self, revoked: set[TopicPartition]) -> None:
        await self.worker.release({tp.partition for tp in revoked})

    async def on_partitions_assigned(self, assigned: set[TopicPartition]) -> None:
        self.worker.assigned({tp.partition for tp in assigned})


class GroupWorker:
    """Runs one windowed query over the source partitions its consumer group gives it, until stopped."""

    def __init__(self, query: CompiledQuery, bootstrap: str, config: AnalyticsConfig) -> None:
        why = refusal(query)
        if why is not None:
            raise ScaleOutError(why)
        self.query = query
        self.bootstrap = bootstrap
        self.config = config
        self.group = group_name(config.progress_group_prefix, query.name)
        self.partials_topic = partials_topic(self.group)
        self.checkpoint_dir = Path(config.checkpoint_dir) / f"{query.name}.partitions"
        self.decoder = Decoder.for_query(query, config.max_record_bytes)
        self.streak = FailureStreak()
        self.operators: dict[int, PartitionOperator] = {}
        self.offsets: dict[int, int] = {}
        self.events = 0
        self.cluster_id: str | None = None
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"worker-{query.name}")
        self._consumer: AIOKafkaConsumer | None = None
        self._pending: list[asyncio.Future[object]] = []
        self._sent: dict[int, tuple[int, bool, int]] = {}
        self._checkpointed: dict[int, int] = {}
        self._running = False
        self._assignment: set[int] | None = None
        self._revoking: set[int] | None = None
        self._released = asyncio.Event()

    # -- the group's callbacks (run by the consumer's coordination task) ----------------------------------------------
    async def release(self, partitions: set[int]) -> None:
        """The group takes ``partitions`` away: wait until the worker has flushed them (at a batch boundary)."""
        if not partitions or not self._running:
            return
        self._released.clear()
        self._revoking = partitions
        try:
            await asyncio.wait_for(self._released.wait(), _RELEASE_TIMEOUT_S)
        except TimeoutError:
            log.warning("query %s: partitions %s released before their flush ended", self.query.name, partitions)

    def assigned(self, partitions: set[int]) -> None:
        if self._consumer is not None:
            self._consumer.pause(*[TopicPartition(self.query.source.topic, p) for p in partitions])
        self._assignment = set(partitions)

    # -- running ------------------------------------------------------------------------------------------------
    async def run(self, stop: asyncio.Event) -> None:
        topics = self.config.output_topics()
        await ensure_topics(self.bootstrap, [self.partials_topic])
        await ensure_topics(self.bootstrap, sorted({topics.late, topics.errors}))
        partitions, self.cluster_id = await describe_source(self.bootstrap, self.query.source.topic, stop)
        if not partitions:
            return
        self.checkpoint_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
        reader = PartitionReader(self.bootstrap, self.query.source.topic, max_wait_ms=self.config.poll_timeout_ms)
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap, group_id=self.group, enable_auto_commit=False, client_id=self.group
        )
        try:
            await producer.start()
            await reader.start()
            await self._consumer.start()
            self._consumer.subscribe([self.query.source.topic], listener=_Membership(self))
            self._running = True
            last_flush = time.monotonic()
            while not stop.is_set():
                await self._rebalance(reader, producer)
                # Polling keeps the membership alive (max.poll.interval.ms); the partitions are paused, so it returns
                # nothing.
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._consumer.getmany(timeout_ms=0), _COMMIT_TIMEOUT_S)
                fetched = await reader.fetch(self.config.max_batch_records) if self.operators else Fetched()
                busy = self._busy(reader)
                if self.operators:
                    outcome = await asyncio.get_running_loop().run_in_executor(
                        self._thread, self._compute, fetched, now_ms(), busy
                    )
                    self.offsets.update(fetched.next_offsets)
                    self.events += fetched.count
                    for topic, key, value in outcome_records(self.query, outcome, topics, now_ms()):
                        self._pending.append(await producer.send(topic, value=value, key=key))
                if time.monotonic() - last_flush >= self.config.checkpoint_interval_s:
                    await self._flush(producer, busy)
                    last_flush = time.monotonic()
                if not busy:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.config.min_batch_interval_ms / 1000)
            await self._flush(producer, self._busy(reader))
        finally:
            self._running = False
            self._released.set()
            with contextlib.suppress(Exception):
                await self._consumer.stop()
            await reader.close()
            await producer.stop()
            self._thread.shutdown(wait=False)

    def _compute(self, fetched: Fetched, clock_ms: int, busy: set[int]) -> BatchOutcome:
        parts = {partition: (partition, offsets, values) for partition, offsets, values in fetched.parts}
        outcome = BatchOutcome()
        for partition, operator in sorted(self.operators.items()):
            part = parts.get(partition)
            outcome.extend(
                process_batch(
                    self.decoder,
                    operator,
                    self.query.name,
                    [part] if part else [],
                    clock_ms,
                    busy & {partition},
                    self.streak,
                )
            )
        return outcome

    def _busy(self, reader: PartitionReader) -> set[int]:
        busy = set()
        for partition in reader.partitions:
            highwater = reader.highwater(partition)
            if highwater is None or reader.position(partition) < highwater:
                busy.add(partition)
        return busy

    # -- rebalances -------------------------------------------------------------------------------------------------
    async def _rebalance(self, reader: PartitionReader, producer: AIOKafkaProducer) -> None:
        if self._revoking is not None:
            await self._flush(producer, self._busy(reader))
            for partition in self._revoking:
                self.operators.pop(partition, None)
                self.offsets.pop(partition, None)
                self._sent.pop(partition, None)
                self._checkpointed.pop(partition, None)
            log.info("query %s: released partitions %s", self.query.name, sorted(self._revoking))
            self._revoking = None
            self._released.set()
            await self._position(reader)
        if self._assignment is not None:
            assignment, self._assignment = self._assignment, None
            for partition in set(self.operators) - assignment:
                self.operators.pop(partition)
                self.offsets.pop(partition, None)
            for partition in sorted(assignment - set(self.operators)):
                self.operators[partition] = await asyncio.get_running_loop().run_in_executor(
                    self._thread, self._restore, partition
                )
            log.info("query %s: owns partitions %s", self.query.name, sorted(self.operators))
            await self._position(reader)

    async def _position(self, reader: PartitionReader) -> None:
        owned = sorted(self.operators)
        reader.assign(owned)
        unread = []
        for partition in owned:
            if partition in self.offsets:
                reader.seek(partition, self.offsets[partition])
            else:
                unread.append(partition)
        if unread:
            await reader.seek_to(unread, self.config.start_from)
            for partition in unread:
                self.offsets[partition] = reader.position(partition)

    def _checkpoint_path(self, partition: int) -> Path:
        return self.checkpoint_dir / f"{partition}.ckpt"

    def _restore(self, partition: int) -> PartitionOperator:
        operator = PartitionOperator(self.query)
        now = now_ms()
        checkpoint = load_checkpoint(self._checkpoint_path(partition), self.query.name, self.query.fingerprint)
        if checkpoint is not None and checkpoint.cluster_id not in (None, self.cluster_id):
            log.warning(
                "query %s: checkpoint of partition %d is of another Kafka cluster; ignored", self.query.name, partition
            )
            checkpoint = None
        if checkpoint is not None and partition in checkpoint.offsets:
            operator.restore(checkpoint.operator, checkpoint.state, now)
            self.offsets[partition] = checkpoint.offsets[partition]
            self._checkpointed[partition] = checkpoint.offsets[partition]
            log.info(
                "query %s: partition %d resumes at offset %d", self.query.name, partition, checkpoint.offsets[partition]
            )
        operator.watermarks.assign([partition], now)
        return operator

    # -- flushing -----------------------------------------------------------------------------------------------
    async def _flush(self, producer: AIOKafkaProducer, busy: set[int]) -> None:
        """Partials and progress out, acknowledged (with every late event and error before them), then the
        checkpoints, then the group's commit."""
        loop = asyncio.get_running_loop()
        records, snapshots = await loop.run_in_executor(self._thread, self._take, dict(self.offsets), busy, now_ms())
        for key, value in records:
            self._pending.append(await producer.send(self.partials_topic, value=value, key=key, partition=0))
        pending, self._pending = self._pending, []
        await asyncio.gather(*pending)
        if snapshots:
            await loop.run_in_executor(self._thread, self._save, snapshots)
        await self._commit(dict(self.offsets))

    def _take(
        self, offsets: dict[int, int], busy: set[int], clock_ms: int
    ) -> tuple[list[tuple[bytes, bytes]], list[Checkpoint]]:
        records: list[tuple[bytes, bytes]] = []
        snapshots = []
        for partition, operator in sorted(self.operators.items()):
            through = offsets.get(partition, 0)
            for ws, we, final, rows in operator.take():
                records.append(encode_partial(Partial(partition, ws, we, through, final, rows)))
            seen = operator.watermarks.last_seen_ms.get(partition, clock_ms)
            idle = partition not in busy and clock_ms - seen >= self.query.idle_timeout_ms
            progress = (operator.watermarks.watermark, idle, through)
            if self._sent.get(partition) != progress:
                records.append(encode_progress(Progress(partition, progress[0], idle, through)))
                self._sent[partition] = progress
            if self._checkpointed.get(partition) != through:
                meta, state = operator.snapshot()
                checkpoint = Checkpoint(
                    self.query.name, self.query.fingerprint, {partition: through}, meta, state, self.cluster_id
                )
                snapshots.append(checkpoint)
        return records, snapshots

    def _save(self, snapshots: list[Checkpoint]) -> None:
        for checkpoint in snapshots:
            (partition, through), *_ = checkpoint.offsets.items()
            save_checkpoint(self._checkpoint_path(partition), checkpoint)
            self._checkpointed[partition] = through

    async def _commit(self, offsets: dict[int, int]) -> None:
        if self._consumer is None or not offsets:
            return
        topic = self.query.source.topic
        try:
            await asyncio.wait_for(
                self._consumer.commit({TopicPartition(topic, p): o for p, o in offsets.items()}), _COMMIT_TIMEOUT_S
            )
        except (KafkaError, TimeoutError) as exc:
            log.warning("query %s: offset commit refused (%r); the checkpoints are written", self.query.name, exc)


__all__ = ["GroupWorker", "describe_source"]
