"""``kemu sink run`` as a child process on services of the test's own, for the tests that stop, freeze or kill
those services (MinIO outages) or the child itself."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.services import LocalServices
from emulator.services.state import ServicesState
from emulator.settings import ServicesSettings
from sinks import DeliveryStreamConfig
from tests.integration.sinks.helpers import committed, delivery_config, send_events
from tests.support.endpoints import Endpoints, launched

KEMU = Path(sys.executable).with_name("kemu")


def sink_env(endpoints: Endpoints) -> dict[str, str]:
    return {**os.environ, **endpoints.settings_env()}


def crash_stream(topic: str, prefix: str, group: str) -> DeliveryStreamConfig:
    """The delivery stream ``crash`` these tests run in ``kemu sink run``: 1 MiB / 1 s buffers, objects under
    ``prefix`` ``data/p=<year>/``, into the application's bucket."""
    return delivery_config("crash", topic, None, prefix, group, data="data/p=!{timestamp:yyyy}/")


def write_config(path: Path, stream: DeliveryStreamConfig, *, head: str = "", sinks: str = "") -> Path:
    """A ``kemu.toml`` at ``path`` with the one delivery stream ``stream`` (its bucket the application's); ``head``
    goes before the ``[sinks]`` table, ``sinks`` into it."""
    path.write_text(
        f"""{head}
[sinks]
poll_timeout_ms = 50
{sinks}
[[sinks.delivery_streams]]
name = {json.dumps(stream.name)}
source_topic = {json.dumps(stream.source_topic)}
prefix = {json.dumps(stream.prefix)}
error_output_prefix = {json.dumps(stream.error_output_prefix)}
consumer_group = {json.dumps(stream.consumer_group)}
buffering = {{ size_mib = {stream.buffering.size_mib}, interval_s = {stream.buffering.interval_s} }}
"""
    )
    return path


async def start_sink_run(
    config: Path, name: str, endpoints: Endpoints, log: Path, *options: str
) -> asyncio.subprocess.Process:
    """``kemu --config <config> sink run <name> <options>`` on ``endpoints``, its output (both streams) to ``log``."""
    with log.open("wb") as out:
        return await asyncio.create_subprocess_exec(
            str(KEMU), "--config", str(config), "sink", "run", name, *options,
            env=sink_env(endpoints), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip


@dataclass
class SinkChild:
    """A delivery stream ``crash`` from ``<name>-events`` (2 partitions) to ``<name>/`` in a ``kemu sink run`` child
    whose output goes to ``log``, on the test's own ``services``; with an admin client and a producer."""

    services: LocalServices
    state: ServicesState
    endpoints: Endpoints
    topic: str
    group: str
    admin: AIOKafkaAdminClient
    producer: AIOKafkaProducer
    process: asyncio.subprocess.Process
    log: Path

    async def produce(self, start: int, stop: int) -> None:
        """Events ``start`` to ``stop`` (excluded), acknowledged."""
        await send_events(self.producer, self.topic, start, stop)

    async def delivered(self) -> int:
        """Events the stream has committed (delivered to S3)."""
        offsets = await committed(self.admin, self.group)
        return sum(om.offset for om in offsets.values() if om.offset > 0)

    async def wait_delivered(self, count: int, tries: int) -> int:
        """Polls :meth:`delivered` every 0.1 s until it is ``count`` or ``tries`` polls passed; the last figure."""
        delivered = 0
        for _ in range(tries):
            delivered = await self.delivered()
            if delivered == count:
                break
            await asyncio.sleep(0.1)
        return delivered

    def output(self) -> str:
        return self.log.read_text()


@contextlib.asynccontextmanager
async def sink_child(tmp_path: Path, name: str) -> AsyncIterator[SinkChild]:
    """Start services of the test's own, the topic, the clients and the child; stop them all (the child killed if
    still running) on the way out, whatever happens."""
    services = LocalServices(ServicesSettings(), bucket="kemu-test", run_dir=tmp_path / "services")
    with services as state:
        endpoints = launched(services, state, "us-east-1", f"{name} test")
        topic, group = f"{name}-events", f"{name}-group"
        config = write_config(tmp_path / "kemu.toml", crash_stream(topic, f"{name}/", group))
        log = tmp_path / "sink.log"
        admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka_bootstrap, linger_ms=20)
        process: asyncio.subprocess.Process | None = None
        try:
            await admin.start()
            await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
            await producer.start()
            process = await start_sink_run(config, "crash", endpoints, log, "--progress-interval", "1")
            yield SinkChild(services, state, endpoints, topic, group, admin, producer, process, log)
        finally:
            if process is not None and process.returncode is None:
                process.kill()
                await process.wait()
            await producer.stop()
            await admin.close()
