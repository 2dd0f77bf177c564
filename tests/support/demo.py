"""Running the real demo inside a test's event loop: with a results publisher in place of the pipeline
(:func:`running_demo`), or with the real pipeline in child processes as ``kemu up`` runs it
(:func:`running_pipeline_demo`)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from pydantic import SecretStr

from analytics.config import AnalyticsConfig
from emulator.config.api import ServingSettings
from emulator.config.demo import DemoSettings
from emulator.endpoints import ResolvedEndpoints, S3Target
from emulator.runtime.demo import Demo
from emulator.services.ports import free_port
from emulator.settings import Settings
from emulator.supervision import Component, RestartBackoff
from sinks import DeliveryStreamConfig
from tests.support.endpoints import Endpoints
from tests.support.publisher import ResultsPublisher


@dataclass
class RunningDemo:
    demo: Demo
    publisher: ResultsPublisher

    @property
    def url(self) -> str:
        return self.demo.url


def demo_context(endpoints: Endpoints, results_topic: str, alerts_topic: str) -> ResolvedEndpoints:
    serving = ServingSettings(
        results_topic=results_topic, alerts_topic=alerts_topic, streams=(results_topic, alerts_topic), streams_poll_s=1
    )
    settings = Settings.load(serving=serving, log_level="WARNING")
    s3 = S3Target(endpoints.s3_endpoint, endpoints.s3_access_key, SecretStr(endpoints.s3_secret_key), endpoints.bucket)
    return ResolvedEndpoints(settings, endpoints.kafka_bootstrap, s3)


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
        backoff=RestartBackoff(initial_s=0.05, maximum_s=0.2),  # tests need not wait for the real back-off
    )
    ready = asyncio.Event()
    task = asyncio.create_task(demo.run(on_ready=lambda _: ready.set()))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        yield RunningDemo(demo, publisher)
    finally:
        demo.stop()
        await asyncio.wait_for(task, 30)


@contextlib.asynccontextmanager
async def running_pipeline_demo(
    endpoints: Endpoints,
    results_topic: str,
    alerts_topic: str,
    work: Path,
    game_rate: float = 300.0,
    clickstream_rate: float = 0.0,
    iot_rate: float = 0.0,
    delivery: Sequence[DeliveryStreamConfig] = (),
    streams: tuple[str, ...] | None = None,
    pipeline_nice: int = 19,
) -> AsyncIterator[Demo]:
    """``kemu up``'s :class:`Demo` with its default pipeline (producers, engine, Kinesis API; each a child process)
    at modest rates, by default on the game stream only and with no sinks (``delivery`` gives delivery streams,
    which the test names so their consumer groups and prefixes are its own). The engine starts at the end of the
    streams with its own checkpoints and writes to this test's topics, so other tests' events and results stay out."""
    serving = ServingSettings(
        results_topic=results_topic,
        alerts_topic=alerts_topic,
        streams=("game-events", results_topic) if streams is None else streams,
        streams_poll_s=1,
    )
    analytics = AnalyticsConfig(
        checkpoint_dir=work / "checkpoints", start_from="latest", results_topic=results_topic, alerts_topic=alerts_topic
    )
    demo_settings = DemoSettings(
        game_rate=game_rate,
        clickstream_rate=clickstream_rate,
        iot_rate=iot_rate,
        deliver_to_s3=bool(delivery),
        pipeline_nice=pipeline_nice,
    )
    settings = Settings.load(
        serving=serving,
        analytics=analytics,
        demo=demo_settings,
        sinks={"delivery_streams": [d.model_dump() for d in delivery]} if delivery else {},
        s3={"bucket": endpoints.bucket},
        kinesis={"port": free_port()},
        log_level="WARNING",
    )
    s3 = S3Target(endpoints.s3_endpoint, endpoints.s3_access_key, SecretStr(endpoints.s3_secret_key), endpoints.bucket)
    demo = Demo(ResolvedEndpoints(settings, endpoints.kafka_bootstrap, s3), port=0)
    ready = asyncio.Event()
    task = asyncio.create_task(demo.run(on_ready=lambda _: ready.set()))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        yield demo
    finally:
        demo.stop()
        await asyncio.wait_for(task, 60)
