"""The components ``kemu up`` runs beside the leaderboard API, built from the settings and the resolved addresses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from emulator.kinesis.server import KinesisServer
from emulator.runtime.components import ComponentFactory, DemoContext
from emulator.runtime.supervisor import Component, ServiceComponent
from sinks import S3Connection


class KinesisApiComponent:
    """The Kinesis Data Streams and Firehose HTTP API (its own uvicorn in a thread) as a supervised component; its
    Firehose delivery streams write to the demo's S3."""

    name = "kinesis-api"

    def __init__(self, context: DemoContext) -> None:
        self._context = context
        self._server: KinesisServer | None = None

    async def start(self) -> None:
        # A new server per start: a restarted component must not reuse a stopped uvicorn thread.
        s3 = self._context.s3
        connection = S3Connection(
            endpoint_url=s3.endpoint_url,
            access_key_id=s3.access_key_id,
            secret_access_key=s3.secret_access_key,
            region=s3.region,
        )
        self._server = KinesisServer(self._context.settings.kinesis, self._context.kafka_bootstrap, s3=connection)
        await asyncio.to_thread(self._server.start)

    async def stop(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)


def kinesis_api_components(context: DemoContext) -> Sequence[Component | ServiceComponent]:
    return [KinesisApiComponent(context)]


#: What ``kemu up`` runs beside the leaderboard API, started in this order and stopped in reverse: consumers that
#: drain (the sink, the analytics engine) before the producers that feed them.
PIPELINE_COMPONENTS: tuple[ComponentFactory, ...] = (kinesis_api_components,)
