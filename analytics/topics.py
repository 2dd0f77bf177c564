"""The engine's admin calls to Kafka: output topics created when missing, a source topic described."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

log = logging.getLogger(__name__)


async def ensure_topics(bootstrap: str, topics: Sequence[str], partitions: int = 1) -> None:
    """Create the output topics that do not exist yet."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [NewTopic(t, num_partitions=partitions, replication_factor=1) for t in topics if t not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # another engine created them meanwhile
                await admin.create_topics(missing)
    finally:
        await admin.close()


async def describe_source(bootstrap: str, topic: str, stop: asyncio.Event, query: str) -> tuple[list[int], str | None]:
    """The source topic's partitions (waiting, and saying so every 30 s, until it exists or ``stop``: then none) and
    the cluster's id, asked of the same admin connection (a checkpoint records it)."""
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
                log.warning("query %s waits for its source topic %r to exist", query, topic)
            await asyncio.sleep(0.5)
            waited += 0.5
    finally:
        await admin.close()
    return [], cluster_id
