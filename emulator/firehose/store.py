"""The delivery streams: their definitions in memory and in a compacted topic, so they survive a restart.

One record per delivery stream, keyed by its name, holding the whole definition (source, destination, creation
time, consumer group); a deleted stream leaves a tombstone. Status lives in memory only: a stream read back at
start is ACTIVE again as soon as its delivery task runs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka.admin import AIOKafkaAdminClient

from emulator.aws.compacted import CompactedTable, typed_member
from emulator.aws.writer import KafkaWriter
from emulator.firehose.shapes import STREAM_TYPES, S3DestinationConfig
from emulator.names import is_delivery_stream_name

#: The backing topic of a DirectPut delivery stream is ``kemu-firehose-direct-<name>``: kemu's prefix seals it from
#: the Kinesis API (emulator.topics), so only Firehose's own PutRecord/PutRecordBatch write to it.
DIRECT_PUT_TOPIC_PREFIX = "kemu-firehose-direct-"


def direct_put_topic(name: str) -> str:
    """The Kafka topic PutRecord/PutRecordBatch write to for delivery stream ``name``."""
    return f"{DIRECT_PUT_TOPIC_PREFIX}{name}"


@dataclass(slots=True)
class DeliveryStreamState:
    """One delivery stream as DescribeDeliveryStream shows it, plus where its data lives in Kafka."""

    name: str
    stream_type: str
    source_topic: str
    destination: S3DestinationConfig
    created_ms: int
    source_role_arn: str | None = None
    tags: dict[str, str] = field(default_factory=dict)
    status: str = "CREATING"
    #: Why delivery last failed (DescribeDeliveryStream's FailureDescription), cleared when it runs again.
    failure: str | None = None

    @property
    def consumer_group(self) -> str:
        """Unique per incarnation: a stream deleted and created again starts afresh, not at old offsets."""
        return f"kemu-firehose-{self.name}-{self.created_ms}"

    def to_record(self) -> bytes:
        return orjson.dumps(
            {
                "stream_type": self.stream_type,
                "source_topic": self.source_topic,
                "source_role_arn": self.source_role_arn,
                "destination": self.destination.to_record(),
                "created_ms": self.created_ms,
                "tags": self.tags,
            }
        )

    @classmethod
    def from_record(cls, name: str, record: dict[str, Any]) -> DeliveryStreamState:
        """The definition saved by :meth:`to_record`; KeyError, TypeError or ValueError for anything else."""
        if not is_delivery_stream_name(name):
            raise ValueError(f"{name!r} is not a delivery stream name")
        stream_type = typed_member(record, "stream_type", str)
        if stream_type not in STREAM_TYPES:
            raise ValueError(f"unknown stream type {stream_type!r}")
        tags = typed_member(record, "tags", dict, {})
        if not all(isinstance(key, str) and isinstance(value, str) for key, value in tags.items()):
            raise TypeError("tags must map strings to strings")
        role = record.get("source_role_arn")
        return cls(
            name=name,
            stream_type=stream_type,
            source_topic=typed_member(record, "source_topic", str),
            destination=S3DestinationConfig.from_record(typed_member(record, "destination", dict)),
            created_ms=typed_member(record, "created_ms", int),
            source_role_arn=None if role is None else typed_member(record, "source_role_arn", str),
            tags=dict(tags),
        )


class DeliveryStreamStore:
    """Delivery streams by name, persisted through ``writer`` to ``metadata_topic``."""

    def __init__(self, bootstrap_servers: str, writer: KafkaWriter, metadata_topic: str) -> None:
        self._table = CompactedTable(bootstrap_servers, metadata_topic, writer, DeliveryStreamState.from_record)
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="kemu-firehose-api")
        self.streams: dict[str, DeliveryStreamState] = {}
        #: Records of the metadata topic skipped at start because they could not be read.
        self.skipped_metadata_records = 0

    async def start(self) -> list[DeliveryStreamState]:
        """Connect, and read back the saved delivery streams (returned, and kept)."""
        await self.admin.start()
        loaded = await self._table.load(self.admin)
        self.skipped_metadata_records = loaded.skipped
        self.streams.update(loaded.entries)
        return list(self.streams.values())

    async def stop(self) -> None:
        await self.admin.close()

    async def save(self, stream: DeliveryStreamState) -> None:
        await self._table.save(stream.name, stream.to_record())

    async def remove(self, name: str) -> None:
        await self._table.remove(name)
        self.streams.pop(name, None)

    async def topics(self) -> set[str]:
        return set(await self.admin.list_topics())
