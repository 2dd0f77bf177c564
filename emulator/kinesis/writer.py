"""Writing records to Kafka: one batch per partition, acknowledged by every in-sync replica before we answer.

Records of one PutRecords call are grouped by partition and appended to one aiokafka batch per partition (a
batch that fills up is sent and another started); the call returns only when the broker has acknowledged every
batch (``acks=all``), so a successful response means the data is durable in Kafka. A failed batch fails only
its own records: PutRecords reports them per record, as Kinesis does.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from typing import Any

from aiokafka import AIOKafkaProducer

log = logging.getLogger(__name__)

#: Bytes per record batch; a single larger record still goes alone in its own batch.
BATCH_BYTES = 1024 * 1024
#: Kafka requests carry several partitions' batches; a 1 MiB record plus key must fit with room to spare.
MAX_REQUEST_BYTES = 16 * 1024 * 1024


class KafkaWriter:
    """The one producer of the API, shared by every request."""

    def __init__(self, bootstrap_servers: str) -> None:
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            acks="all",
            linger_ms=0,
            max_batch_size=BATCH_BYTES,
            max_request_size=MAX_REQUEST_BYTES,
            request_timeout_ms=30_000,
            client_id="kemu-kinesis-api",
        )

    async def start(self) -> None:
        await self._producer.start()

    async def stop(self) -> None:
        await self._producer.stop()

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

    async def write(self, topic: str, records: Sequence[tuple[int, bytes, bytes]]) -> list[int | BaseException]:
        """Write ``(partition, key, value)`` records; the result at index i is record i's offset, or its error."""
        by_partition: dict[int, list[int]] = {}
        for index, record in enumerate(records):
            members = by_partition.get(record[0])
            if members is None:
                by_partition[record[0]] = [index]
            else:
                members.append(index)
        results: list[int | BaseException] = [0] * len(records)
        sends: list[tuple[list[int], Any]] = []
        for partition, indexes in by_partition.items():
            batch = self._producer.create_batch()
            members = []
            for index in indexes:
                _, key, value = records[index]
                if batch.append(key=key, value=value, timestamp=None) is None:
                    batch.close()
                    sends.append((members, self._send(batch, topic, partition)))
                    batch, members = self._producer.create_batch(), []
                    batch.append(key=key, value=value, timestamp=None)
                members.append(index)
            batch.close()
            sends.append((members, self._send(batch, topic, partition)))
        outcomes = await asyncio.gather(*(send for _, send in sends), return_exceptions=True)
        for (members, _), outcome in zip(sends, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                log.warning("writing %d records to %s failed: %r", len(members), topic, outcome)
                for index in members:
                    results[index] = outcome
                continue
            for relative, index in enumerate(members, start=outcome):
                results[index] = relative
        return results

    async def _send(self, batch: Any, topic: str, partition: int) -> int:
        """Send one batch; its base offset once the broker acknowledged it."""
        future = await self._producer.send_batch(batch, topic, partition=partition)
        metadata = await future
        return int(metadata.offset)

    async def send_json(self, topic: str, key: bytes, value: bytes | None) -> None:
        """Write one record (or a tombstone) and wait for its acknowledgement: the metadata topic's path."""
        await self._producer.send_and_wait(topic, key=key, value=value)
