"""Running the real demo (supervisor + API + a results publisher) inside a test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass

from pydantic import SecretStr

from emulator.api.resources import S3Target
from emulator.config.api import ServingSettings
from emulator.runtime.components import DemoContext
from emulator.runtime.demo import Demo
from emulator.runtime.supervisor import Backoff, Component
from emulator.settings import Settings
from tests.support.endpoints import Endpoints
from tests.support.publisher import ResultsPublisher


@dataclass
class RunningDemo:
    demo: Demo
    publisher: ResultsPublisher

    @property
    def url(self) -> str:
        return self.demo.url


def demo_context(endpoints: Endpoints, results_topic: str, alerts_topic: str) -> DemoContext:
    serving = ServingSettings(
        results_topic=results_topic, alerts_topic=alerts_topic, streams=(results_topic, alerts_topic), streams_poll_s=1
    )
    settings = Settings.load(serving=serving, log_level="WARNING")
    s3 = S3Target(endpoints.s3_endpoint, endpoints.s3_access_key, SecretStr(endpoints.s3_secret_key), endpoints.bucket)
    return DemoContext(settings, endpoints.kafka_bootstrap, s3)


@contextlib.asynccontextmanager
async def running_demo(
    endpoints: Endpoints,
    results_topic: str,
    alerts_topic: str,
    records_per_s: float = 10.0,
    window_s: int = 10,
    extra: Sequence[Component] = (),
) -> AsyncIterator[RunningDemo]:
    """``kemu up``'s :class:`Demo` on a free port, with the test publisher plugged in through the factory hook."""
    publisher = ResultsPublisher(
        endpoints.kafka_bootstrap, results_topic, alerts_topic, records_per_s=records_per_s, window_s=window_s
    )
    demo = Demo(
        demo_context(endpoints, results_topic, alerts_topic),
        factories=[lambda ctx: [publisher, *extra]],
        port=0,
        backoff=Backoff(initial_s=0.05, maximum_s=0.2),  # tests need not wait for the real back-off
    )
    ready = asyncio.Event()
    task = asyncio.create_task(demo.run(on_ready=lambda _: ready.set()))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        yield RunningDemo(demo, publisher)
    finally:
        demo.stop()
        await asyncio.wait_for(task, 30)
