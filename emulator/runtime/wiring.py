"""The components ``kemu up`` runs beside the leaderboard API, built from the settings and the resolved addresses."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from emulator.kinesis.server import KinesisServer
from emulator.runtime.components import ComponentFactory, DemoContext
from emulator.runtime.supervisor import Component, ServiceComponent


class KinesisApiComponent:
    """The Kinesis Data Streams HTTP API (its own uvicorn in a thread) as a supervised component."""

    name = "kinesis-api"

    def __init__(self, context: DemoContext) -> None:
        self._context = context
        self._server: KinesisServer | None = None

    async def start(self) -> None:
        # A new server per start: a restarted component must not reuse a stopped uvicorn thread.
        self._server = KinesisServer(self._context.settings.kinesis, self._context.kafka_bootstrap)
        await asyncio.to_thread(self._server.start)

    async def stop(self) -> None:
        if self._server is not None:
            await asyncio.to_thread(self._server.stop)


def kinesis_api_components(context: DemoContext) -> Sequence[Component | ServiceComponent]:
    return [KinesisApiComponent(context)]


#: What ``kemu up`` runs beside the leaderboard API, started in this order and stopped in reverse: consumers that
#: drain (the sink, the analytics engine) before the producers that feed them.
PIPELINE_COMPONENTS: tuple[ComponentFactory, ...] = (kinesis_api_components,)
