"""The first start on a fresh cluster logs no errors: the API waits for the analytics topics instead of subscribing
to topics that do not exist yet (aiokafka logs ``ERROR Topic … not found in cluster metadata`` at every metadata
refresh then), and ``kemu up`` creates the topics its pipeline needs up front."""

from __future__ import annotations

import asyncio
import logging
import uuid

import pytest
from aiokafka.admin import AIOKafkaAdminClient

from emulator.runtime.demo import Demo
from emulator.runtime.pipeline_topics import pipeline_topics
from tests.support.demo import demo_context
from tests.support.endpoints import Endpoints


async def test_the_api_waits_for_missing_analytics_topics_without_errors(
    endpoints: Endpoints, caplog: pytest.LogCaptureFixture
) -> None:
    suffix = uuid.uuid4().hex[:8]
    results, alerts = f"first-start-results-{suffix}", f"first-start-alerts-{suffix}"
    demo = Demo(demo_context(endpoints, results, alerts), factories=(), port=0)
    caplog.set_level(logging.INFO)
    task = asyncio.create_task(demo.run())
    try:
        # Longer than the consumer's 5 s metadata refresh: every refresh would log the error again.
        await asyncio.sleep(7)
    finally:
        demo.stop()
        await asyncio.wait_for(task, 30)
    await delete_topics(endpoints.kafka_bootstrap, [results, alerts])
    errors = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, errors
    assert any("waiting for" in r.getMessage() and results in r.getMessage() for r in caplog.records)


async def test_kemu_up_creates_its_topics_up_front(endpoints: Endpoints) -> None:
    suffix = uuid.uuid4().hex[:8]
    context = demo_context(endpoints, f"up-results-{suffix}", f"up-alerts-{suffix}")
    wanted = pipeline_topics(context.settings)
    assert {"game-events", "clickstream", "iot-telemetry", f"up-results-{suffix}", f"up-alerts-{suffix}"} <= set(wanted)
    demo = Demo(context, factories=(), port=0, create_topics=True)
    ready = asyncio.Event()
    task = asyncio.create_task(demo.run(on_ready=lambda _: ready.set()))
    try:
        await asyncio.wait_for(ready.wait(), 30)
        admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
        try:
            await admin.start()
            existing = set(await admin.list_topics())
        finally:
            await admin.close()
        assert set(wanted) <= existing
    finally:
        demo.stop()
        await asyncio.wait_for(task, 30)
        await delete_topics(endpoints.kafka_bootstrap, [f"up-results-{suffix}", f"up-alerts-{suffix}"])


async def delete_topics(bootstrap: str, topics: list[str]) -> None:
    """This test's own topics go, so later tests (and the live page's) see a cluster without them."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        present = set(await admin.list_topics())
        if gone := [t for t in topics if t in present]:
            await admin.delete_topics(gone)
    finally:
        await admin.close()
