"""The delivery streams: their definitions in memory and in a compacted topic, so they survive a restart.

One record per delivery stream, keyed by its name, holding the whole definition (source, destination, creation
time, consumer group); a deleted stream leaves a tombstone. Status lives in memory only: a stream read back at
start is ACTIVE again as soon as its delivery task runs.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.firehose.shapes import S3Destination
from emulator.kinesis.writer import KafkaWriter

#: The backing topic of a DirectPut delivery stream is ``firehose-<name>``.
DIRECT_PUT_TOPIC_PREFIX = "firehose-"


def direct_put_topic(name: str) -> str:
    """The Kafka topic PutRecord/PutRecordBatch write to for delivery stream ``name``."""
    return f"{DIRECT_PUT_TOPIC_PREFIX}{name}"


@dataclass(slots=True)
class DeliveryStreamState:
    """One delivery stream as DescribeDeliveryStream shows it, plus where its data lives in Kafka."""

    name: str
    stream_type: str
    source_topic: str
    destination: S3Destination
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
        return cls(
            name=name,
            stream_type=record["stream_type"],
            source_topic=record["source_topic"],
            destination=S3Destination.from_record(record["destination"]),
            created_ms=int(record["created_ms"]),
            source_role_arn=record.get("source_role_arn"),
            tags=dict(record.get("tags", {})),
        )


class FirehoseCatalog:
    """Delivery streams by name, persisted through ``writer`` to ``metadata_topic``."""

    def __init__(self, bootstrap_servers: str, writer: KafkaWriter, metadata_topic: str) -> None:
        self._bootstrap = bootstrap_servers
        self._writer = writer
        self._topic = metadata_topic
        self.admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="kemu-firehose-api")
        self.streams: dict[str, DeliveryStreamState] = {}

    async def start(self) -> list[DeliveryStreamState]:
        """Connect, and read back the saved delivery streams (returned, and kept)."""
        await self.admin.start()
        if self._topic not in await self.admin.list_topics():
            with contextlib.suppress(Exception):  # another instance may create it at the same time
                await self.admin.create_topics(
                    [NewTopic(self._topic, 1, 1, topic_configs={"cleanup.policy": "compact"})]
                )
        for name, record in (await self._load()).items():
            self.streams[name] = DeliveryStreamState.from_record(name, record)
        return list(self.streams.values())

    async def stop(self) -> None:
        await self.admin.close()

    async def save(self, stream: DeliveryStreamState) -> None:
        await self._writer.send_json(self._topic, stream.name.encode(), stream.to_record())

    async def remove(self, name: str) -> None:
        await self._writer.send_json(self._topic, name.encode(), None)
        self.streams.pop(name, None)

    async def topics(self) -> set[str]:
        return set(await self.admin.list_topics())

    async def _load(self) -> dict[str, dict[str, Any]]:
        consumer = AIOKafkaConsumer(
            self._topic, bootstrap_servers=self._bootstrap, group_id=None, enable_auto_commit=False,
            auto_offset_reset="earliest",
        )  # fmt: skip
        await consumer.start()
        saved: dict[str, dict[str, Any]] = {}
        try:
            partitions = list(consumer.assignment())
            if not partitions:
                return saved
            ends = await consumer.end_offsets(partitions)
            while any([await consumer.position(tp) < end for tp, end in ends.items()]):
                for records in (await consumer.getmany(timeout_ms=1000)).values():
                    for record in records:
                        name = (record.key or b"").decode()
                        if record.value is None:
                            saved.pop(name, None)
                        else:
                            saved[name] = orjson.loads(record.value)
        finally:
            await consumer.stop()
        return saved


def now_ms() -> int:
    return time.time_ns() // 1_000_000
