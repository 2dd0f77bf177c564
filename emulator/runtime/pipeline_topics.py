"""The topics ``kemu up`` creates before anything reads or writes them, deliberately rather than by accident.

Readers that start before a writer (the API's results consumer, the sinks) would otherwise subscribe to topics
that do not exist yet, and a broker with automatic topic creation would make them with its defaults instead of the
partition counts chosen here.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from emulator.settings import Settings
from producers import StreamKind

log = logging.getLogger(__name__)


def pipeline_topics(settings: Settings) -> dict[str, int]:
    """Topic → partitions: the demo's streams (one shard per partition, ``demo.shards``), the sinks' sources, and
    the analytics engine's outputs that the API reads (one partition, as the engine creates them)."""
    shards = settings.demo.shards
    topics = {kind.default_stream: shards for kind in StreamKind}
    topics |= {stream.source_topic: shards for stream in settings.sinks.delivery_streams}
    outputs = settings.analytics.output_topics()
    for name in (outputs.results, outputs.alerts, outputs.late, outputs.errors):
        topics[name] = 1
    topics.setdefault(settings.serving.results_topic, 1)
    topics.setdefault(settings.serving.alerts_topic, 1)
    return topics


async def create_missing(bootstrap: str, topics: Mapping[str, int]) -> list[str]:
    """Create the ``topics`` that do not exist (existing ones keep their partitions); the names created."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap, client_id="kemu-up-topics")
    try:
        await admin.start()
        existing = set(await admin.list_topics())
        missing = [NewTopic(name, n, 1) for name, n in sorted(topics.items()) if name not in existing]
        if missing:
            with contextlib.suppress(TopicAlreadyExistsError):  # a component created one meanwhile
                await admin.create_topics(missing)
            log.info("created topics %s", ", ".join(t.name for t in missing))
        return [t.name for t in missing]
    finally:
        await admin.close()
