"""What ``GET /streams`` shows: each Kinesis-style stream (Kafka topic) with its shards, write rates and the lag of
every consumer group reading it, polled from the cluster in the background so a request never waits on Kafka."""

from __future__ import annotations

import asyncio
import logging
import time
from datetime import UTC, datetime
from typing import Any

from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from emulator.api.models import ConsumerLag, ShardInfo, StreamInfo, StreamsAnswer
from emulator.topics import TopicPolicy
from producers.partitioning import shard_hash_key_ranges, shard_id

log = logging.getLogger(__name__)


class StreamsInspector:
    """A supervised component (``run()``) keeping :attr:`answer` fresh every ``poll_s`` seconds."""

    name = "api-streams-inspector"

    def __init__(
        self,
        bootstrap_servers: str,
        streams: tuple[str, ...] = (),
        poll_s: float = 2.0,
        internal: frozenset[str] = frozenset(),
    ) -> None:
        self._bootstrap = bootstrap_servers
        self._streams = streams
        self._internal = internal
        self._poll_s = poll_s
        self._previous: tuple[float, dict[TopicPartition, int]] | None = None
        self.answer = StreamsAnswer(kafka_reachable=False, as_of=None, streams=[])
        self.last_success: float | None = None
        #: When the cluster last answered at all (readiness needs no more than that).
        self.last_contact: float | None = None

    async def run(self) -> None:
        """Poll until cancelled; a failed poll marks Kafka unreachable and is retried at the next tick."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self._bootstrap, client_id="kemu-api-admin")
        consumer = AIOKafkaConsumer(bootstrap_servers=self._bootstrap, group_id=None, client_id="kemu-api-offsets")
        try:
            await admin.start()
            await consumer.start()
            while True:
                try:
                    self.answer = await self.poll(admin, consumer)
                    self.last_success = time.monotonic()
                except Exception as exc:  # a broker hiccup must not end the inspector: report and retry
                    log.warning("polling the streams failed: %s", exc)
                    self.answer = self.answer.model_copy(update={"kafka_reachable": False})
                await asyncio.sleep(self._poll_s)
        finally:
            await consumer.stop()
            await admin.close()

    async def poll(self, admin: AIOKafkaAdminClient, consumer: AIOKafkaConsumer) -> StreamsAnswer:
        topics = set(await admin.list_topics())
        self.last_contact = time.monotonic()
        names = [t for t in self._streams if t in topics] if self._streams else sorted(TopicPolicy().public(topics))
        described = await admin.describe_topics(names) if names else []
        partitions = [
            TopicPartition(d["topic"], p["partition"])
            for d in sorted(described, key=lambda d: str(d["topic"]))
            if d.get("error_code", 0) == 0
            for p in sorted(d["partitions"], key=lambda p: int(p["partition"]))
        ]
        ends: dict[TopicPartition, int] = await consumer.end_offsets(partitions) if partitions else {}
        now = time.monotonic()
        rates = self._rates(now, ends)
        self._previous = (now, ends)
        lags = await self._lags(admin, ends)
        streams = []
        for name in names:
            mine = [tp for tp in partitions if tp.topic == name]
            ranges = shard_hash_key_ranges(len(mine)) if mine else []
            shards = [
                ShardInfo(
                    shard_id=shard_id(tp.partition),
                    partition=tp.partition,
                    starting_hash_key=str(ranges[i].starting_hash_key),
                    ending_hash_key=str(ranges[i].ending_hash_key),
                    end_offset=ends.get(tp, 0),
                    records_per_s=rates.get(tp, 0.0),
                )
                for i, tp in enumerate(mine)
            ]
            streams.append(
                StreamInfo(
                    name=name,
                    shards=shards,
                    records_per_s=round(sum(s.records_per_s for s in shards), 3),
                    consumers=[ConsumerLag(group_id=g, lag=lag) for g, lag in sorted(lags.get(name, {}).items())],
                    internal=name in self._internal,
                )
            )
        return StreamsAnswer(kafka_reachable=True, as_of=datetime.now(UTC), streams=streams)

    def _rates(self, now: float, ends: dict[TopicPartition, int]) -> dict[TopicPartition, float]:
        if self._previous is None:
            return {}
        then, before = self._previous
        elapsed = max(now - then, 1e-6)
        return {tp: round(max(end - before.get(tp, end), 0) / elapsed, 3) for tp, end in ends.items()}

    @staticmethod
    async def _lags(admin: AIOKafkaAdminClient, ends: dict[TopicPartition, int]) -> dict[str, dict[str, int]]:
        """Per stream, per group: end offset minus committed offset, summed over the shards the group committed.
        Groups are asked concurrently (a few at a time): a busy cluster has many."""
        limit = asyncio.Semaphore(8)

        async def offsets_of(group_id: str) -> tuple[str, dict[TopicPartition, Any]]:
            async with limit:
                try:
                    return group_id, await admin.list_consumer_group_offsets(group_id)
                except Exception as exc:  # a group being deleted as we ask is not an error of the inspector
                    log.debug("offsets of group %s: %s", group_id, exc)
                    return group_id, {}

        groups = [group[0] for group in await admin.list_consumer_groups()]
        lags: dict[str, dict[str, int]] = {}
        for group_id, committed in await asyncio.gather(*(offsets_of(g) for g in groups)):
            for tp, meta in committed.items():
                if tp in ends and meta.offset >= 0:
                    per_group = lags.setdefault(tp.topic, {})
                    per_group[group_id] = per_group.get(group_id, 0) + max(ends[tp] - meta.offset, 0)
        return lags
