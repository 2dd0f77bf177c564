"""The stream store: which streams exist, their status, shards, retention and tags.

A stream is the Kafka topic of the same name (shard i = partition i), so the data lives in Kafka. What Kafka cannot
hold (tags, retention in hours, the creation time, the stream mode, and after a reshard the shard map: every
shard's hash-key range, parents and close, :mod:`producers.shard_map`) lives in one compacted topic, keyed by
stream name, read back at start so it survives a restart; a deleted stream leaves a tombstone. Topics written by
other components (``clickstream`` from the producers, say) are streams too: they are discovered on first use, as
ACTIVE streams with the retention of their topic configuration. Sealed topics (:mod:`emulator.topics`: Kafka's
and kemu's own) are never streams, whatever the broker or the metadata holds.

Status is kept in memory: a stream is CREATING until its topic exists (plus an optional delay), DELETING while
its topic is being removed, UPDATING while a reshard completes, ACTIVE otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient, NewPartitions, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.errors import InvalidPartitionsError

from emulator.aws.compacted import CompactedTable, load_compacted, typed_member
from emulator.aws.errors import ResourceNotFoundException
from emulator.aws.writer import KafkaWriter
from emulator.kinesis.shapes import MAX_RETENTION_HOURS, MIN_RETENTION_HOURS, STREAM_NAME_RE
from emulator.names import NAME_RE
from emulator.topics import TopicPolicy
from foundation.clock import now_ms
from producers.shard_map import ShardMap

log = logging.getLogger(__name__)

#: Topic configuration of the streams this API creates: arrival time is the broker's (LogAppendTime), and a
#: whole batch holding a 1 MiB record plus its key fits.
STREAM_TOPIC_CONFIG = {"message.timestamp.type": "LogAppendTime", "max.message.bytes": str(2 * 1024 * 1024)}
DEFAULT_RETENTION_HOURS = 24
AUTO_CREATE = "auto.create.topics.enable"
HOUR_MS = 3_600_000


@dataclass(slots=True)
class Stream:
    """One stream, as DescribeStream shows it. ``shard_map`` is every shard it ever had (shard i = partition i)."""

    name: str
    shard_map: ShardMap
    status: str
    created_ms: int
    retention_hours: int = DEFAULT_RETENTION_HOURS
    on_demand: bool = False
    tags: dict[str, str] = field(default_factory=dict)
    #: Enabled shard-level metrics (EnableEnhancedMonitoring): recorded and shown, since kemu publishes no metrics.
    shard_level_metrics: frozenset[str] = frozenset()
    #: Enhanced fan-out consumers: name → registration time (epoch ms).
    consumers: dict[str, int] = field(default_factory=dict)
    #: When UpdateShardCount ran (epoch ms), for its calls-per-24-hours limit.
    scalings: list[int] = field(default_factory=list)

    @property
    def shard_count(self) -> int:
        """Every shard the stream has had, open or closed: its topic's partition count."""
        return len(self.shard_map)

    @property
    def open_shard_count(self) -> int:
        return len(self.shard_map.open_shards)

    def to_record(self, shard_map: ShardMap | None = None) -> bytes:
        shard_map = shard_map or self.shard_map
        record: dict[str, Any] = {
            "shard_count": len(shard_map),
            "created_ms": self.created_ms,
            "retention_hours": self.retention_hours,
            "on_demand": self.on_demand,
            "tags": self.tags,
            "shard_level_metrics": sorted(self.shard_level_metrics),
            "consumers": self.consumers,
        }
        # A stream never resharded keeps the record it always had: its map is the even split of its partitions.
        if shard_map.resharded:
            record["shards"] = shard_map.to_json()
        if self.scalings:
            record["scalings"] = self.scalings
        return orjson.dumps(record)

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> Stream:
        """A stream read back from the metadata topic (ACTIVE). Without a shard map (never resharded) its shards are the
        even split of ``shard_count``, which the caller corrects to the topic's partition count. ValueError or
        TypeError for a record that is not one this store wrote."""
        if len(name) > 128 or not STREAM_NAME_RE.fullmatch(name):
            raise ValueError(f"{name!r} is not a stream name")
        retention = typed_member(record, "retention_hours", int, DEFAULT_RETENTION_HOURS)
        if not MIN_RETENTION_HOURS <= retention <= MAX_RETENTION_HOURS:
            raise ValueError(f"retention_hours {retention} is out of range")
        tags = typed_member(record, "tags", dict, {})
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in tags.items()):
            raise TypeError("tags must map strings to strings")
        metrics = typed_member(record, "shard_level_metrics", list, [])
        if not all(isinstance(name, str) for name in metrics):
            raise TypeError("shard_level_metrics must be a list of strings")
        consumers = typed_member(record, "consumers", dict, {})
        if not all(NAME_RE.fullmatch(key) and type(value) is int for key, value in consumers.items()):
            raise TypeError("consumers must map consumer names to registration times")
        created_ms = typed_member(record, "created_ms", int, now_ms())
        shards = record.get("shards")
        if shards is None:
            shard_map = ShardMap.uniform(max(1, typed_member(record, "shard_count", int, 1)), created_ms)
        else:
            shard_map = ShardMap.from_json(typed_member(record, "shards", list, []))
        scalings = typed_member(record, "scalings", list, [])
        if not all(type(value) is int for value in scalings):
            raise TypeError("scalings must be a list of times")
        return cls(
            name=name,
            shard_map=shard_map,
            status="ACTIVE",
            created_ms=created_ms,
            retention_hours=retention,
            on_demand=typed_member(record, "on_demand", bool, False),
            tags=dict(tags),
            shard_level_metrics=frozenset(metrics),
            consumers=dict(consumers),
            scalings=list(scalings),
        )


async def read_shard_map(bootstrap_servers: str, metadata_topic: str, stream: str) -> ShardMap | None:
    """The shard map the Kinesis API keeps for ``stream`` when it was resharded, for writers outside the API (the
    aiokafka producers) to route as the API does; None for a stream never resharded (or not made by the API), and
    when the API never ran against this cluster (no metadata topic: a consumer would wait for it, then fail)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="kemu-shard-map")
    try:
        await admin.start()
        exists = metadata_topic in await admin.list_topics()
    finally:
        await admin.close()
    if not exists:
        return None
    loaded = await load_compacted(bootstrap_servers, metadata_topic, Stream.from_record)
    found = loaded.entries.get(stream)
    return found.shard_map if found is not None and found.shard_map.resharded else None


class StreamStore:
    """The streams, keyed by name; Kafka admin operations behind them."""

    def __init__(
        self, bootstrap_servers: str, writer: KafkaWriter, metadata_topic: str, account_id: str, policy: TopicPolicy
    ) -> None:
        self._writer = writer
        self._table = CompactedTable(bootstrap_servers, metadata_topic, writer, Stream.from_record)
        self._account_id = account_id
        self.policy = policy
        self._admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="kemu-kinesis-api")
        self._streams: dict[str, Stream] = {}
        self._replication_factor = 1
        #: Records of the metadata topic skipped at start because they could not be read.
        self.skipped_metadata_records = 0

    async def start(self, replication_factor: int = 1) -> None:
        self._replication_factor = replication_factor
        await self._admin.start()
        await self._warn_if_topics_are_created_automatically()
        loaded = await self._table.load(self._admin, replication_factor)
        self.skipped_metadata_records = loaded.skipped
        existing = await self._topic_partitions()
        for name, stream in loaded.entries.items():
            partitions = existing.get(name)
            if partitions is None or self.policy.is_sealed(name):
                continue
            if not stream.shard_map.resharded:
                stream.shard_map = ShardMap.uniform(partitions, stream.created_ms)
            elif partitions < len(stream.shard_map):
                # The map was saved and the server stopped before the children's partitions were added.
                await self.add_partitions(name, len(stream.shard_map))
            self._streams[name] = stream

    async def stop(self) -> None:
        await self._admin.close()

    async def _warn_if_topics_are_created_automatically(self) -> None:
        """kemu's brokers never create topics automatically; a cluster of the user's may, and then a deleted stream
        comes back (with the broker's default partition count) as soon as any client still asks about it."""
        try:
            broker = str((await self._admin.describe_cluster())["brokers"][0]["node_id"])
            responses = await self._admin.describe_configs(
                [ConfigResource(ConfigResourceType.BROKER, broker, configs={AUTO_CREATE: None})]
            )
            values = [entry[1] for r in responses for res in r.resources for entry in res[4] if entry[0] == AUTO_CREATE]
        except Exception as exc:  # an ACL may forbid reading broker configs: then there is nothing to say
            log.debug("could not read %s of the brokers: %s", AUTO_CREATE, exc)
            return
        if "true" in values:
            log.warning(
                "the Kafka cluster creates topics automatically (%s=true): a deleted stream comes back as a new "
                "topic whenever a client still asks about it. Set it to false on the brokers.",
                AUTO_CREATE,
            )

    # --- lookups -------------------------------------------------------------------------------------------

    def cached(self, name: str) -> Stream | None:
        return None if self.policy.is_sealed(name) else self._streams.get(name)

    async def find(self, name: str) -> Stream | None:
        """The stream called ``name``, discovering a topic created outside this API on first use; never a sealed
        topic."""
        if self.policy.is_sealed(name):
            return None
        stream = self._streams.get(name)
        if stream is not None:
            return stream
        partitions = (await self._topic_partitions([name])).get(name)
        if partitions is None:
            return None
        stream = self._streams.get(name)
        if stream is None:
            created = now_ms()
            retention = await self._topic_retention_hours(name)
            stream = Stream(name, ShardMap.uniform(partitions, created), "ACTIVE", created, retention)
            self._streams[name] = stream
        return stream

    async def _topic_partitions(self, names: list[str] | None = None) -> dict[str, int]:
        """Partition counts of existing topics. Asks for every topic: asking for one by name would make a broker
        with ``auto.create.topics.enable`` create it."""
        found: dict[str, int] = {}
        for topic in await self._admin.describe_topics(None):
            if topic["error_code"] == 0 and (names is None or topic["topic"] in names):
                found[topic["topic"]] = len(topic["partitions"])
        return found

    async def get_or_raise_not_found(self, name: str, *, active: bool = False) -> Stream:
        """The stream, or ResourceNotFoundException as Kinesis words it; ``active`` also refuses non-ACTIVE ones."""
        stream = await self.find(name)
        if stream is None or (active and stream.status not in ("ACTIVE", "UPDATING")):
            raise ResourceNotFoundException(f"Stream {name} under account {self._account_id} not found.")
        return stream

    async def all(self) -> list[Stream]:
        """Every stream, including topics created outside this API, sorted by name."""
        for topic, partitions in (await self._topic_partitions()).items():
            if topic not in self._streams and not self.policy.is_sealed(topic):
                retention = await self._topic_retention_hours(topic)
                created = now_ms()
                self._streams[topic] = Stream(
                    topic, ShardMap.uniform(partitions, created), "ACTIVE", created, retention
                )
        return sorted(self._streams.values(), key=lambda stream: stream.name)

    async def topic_exists(self, name: str) -> bool:
        return name in await self._admin.list_topics()

    # --- changes -------------------------------------------------------------------------------------------

    def register_creating(self, stream: Stream) -> None:
        if self.policy.is_sealed(stream.name):  # the service refuses these names first; this keeps it so
            raise ValueError(self.policy.refusal(stream.name))
        self._streams[stream.name] = stream

    async def create_topic(self, stream: Stream) -> None:
        configs = dict(STREAM_TOPIC_CONFIG, **{"retention.ms": str(stream.retention_hours * HOUR_MS)})
        await self._admin.create_topics(
            [NewTopic(stream.name, len(stream.shard_map), self._replication_factor, topic_configs=configs)]
        )
        await self.save(stream)
        # The stream is usable once the producer sees every partition with a leader.
        for _ in range(100):
            if await self._writer.partitions_of(stream.name) == stream.shard_count:
                return
            await asyncio.sleep(0.05)

    def forget(self, name: str) -> None:
        self._streams.pop(name, None)

    async def delete_topic(self, name: str) -> None:
        if self.policy.is_sealed(name):
            raise ValueError(self.policy.refusal(name))
        # Untracked first: a metadata refresh between the delete and the untracking would log the topic as missing.
        self._writer.forget(name)
        with contextlib.suppress(Exception):
            await self._admin.delete_topics([name])
        await self._table.remove(name)
        self._streams.pop(name, None)

    async def save(self, stream: Stream, shard_map: ShardMap | None = None) -> None:
        """Persist ``stream``, with ``shard_map`` in place of its current one when given (a reshard in progress)."""
        await self._table.save(stream.name, stream.to_record(shard_map))

    async def add_partitions(self, name: str, total: int) -> None:
        """Grow the topic of stream ``name`` to ``total`` partitions, and return once the writer can reach them."""
        current = await self._writer.partitions_of(name) or 0
        if current < total:
            with contextlib.suppress(InvalidPartitionsError):  # already grown by an earlier attempt
                await self._admin.create_partitions({name: NewPartitions(total_count=total)})
        for _ in range(200):
            if (await self._writer.partitions_of(name) or 0) >= total:
                return
            await self._writer.refresh_metadata()
            await asyncio.sleep(0.05)
        raise RuntimeError(f"the topic of stream {name} did not reach {total} partitions")

    async def set_retention(self, stream: Stream, hours: int) -> None:
        resource = ConfigResource(ConfigResourceType.TOPIC, stream.name, configs={"retention.ms": str(hours * HOUR_MS)})
        await self._admin.alter_configs([resource])
        stream.retention_hours = hours
        await self.save(stream)

    async def _topic_retention_hours(self, name: str) -> int:
        try:
            responses = await self._admin.describe_configs(
                [ConfigResource(ConfigResourceType.TOPIC, name, configs=None)]
            )
            for response in responses:
                for resource in response.resources:
                    for entry in resource[4]:
                        if entry[0] == "retention.ms":
                            ms = int(entry[1])
                            return 8760 if ms < 0 else max(1, math.ceil(ms / HOUR_MS))
        except Exception:
            log.warning("could not read the retention of topic %s", name, exc_info=True)
        return DEFAULT_RETENTION_HOURS
