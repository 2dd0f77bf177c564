"""``GET /streams`` lists the cluster's streams by the same rule as the Kinesis API: Kafka's ``__*`` topics and
kemu's own ``kemu-*`` topics (metadata, Firehose's DirectPut topics) are not streams."""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable

from aiokafka import AIOKafkaConsumer
from aiokafka.admin import AIOKafkaAdminClient

from emulator.api.streams import StreamsInspector


async def test_the_inspector_lists_user_streams_only(
    kafka_bootstrap: str, new_topic: Callable[..., Awaitable[str]]
) -> None:
    run = uuid.uuid4().hex[:8]
    user = await new_topic(name=f"plain-{run}")
    internal = await new_topic(name=f"kemu-internal-{run}")
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka_bootstrap, group_id=None)
    try:
        await admin.start()
        await consumer.start()
        answer = await StreamsInspector(kafka_bootstrap).poll(admin, consumer)
    finally:
        await consumer.stop()
        await admin.close()
    names = {stream.name for stream in answer.streams}
    assert user in names
    assert internal not in names
    assert not [name for name in names if name.startswith(("__", "kemu-"))]
