"""MinIO stopped for 30 seconds mid-run: the sink waits (bounded memory), resumes by itself, loses nothing."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
from pathlib import Path

import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from emulator.services import LocalServices
from emulator.settings import ServicesSettings
from tests.integration.sinks.helpers import committed, landed, local_endpoints, send_events
from tests.integration.sinks.test_crash import KEMU, sink_env, write_config

EVENTS = 60_000
OUTAGE_S = 30


async def test_minio_outage_of_30_seconds_loses_nothing_and_memory_stays_bounded(tmp_path: Path) -> None:
    services = LocalServices(ServicesSettings(), bucket="kemu-test", run_dir=tmp_path / "services")
    with services as state:
        endpoints = local_endpoints(services, state, "outage test")
        topic, group = "outage-events", "outage-group"
        config = write_config(tmp_path / "kemu.toml", topic, "outage/", group)
        log = tmp_path / "sink.log"
        admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka_bootstrap, linger_ms=20)
        sink: asyncio.subprocess.Process | None = None
        sampler: asyncio.Task[None] | None = None
        try:
            await admin.start()
            await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
            await producer.start()

            async def produce(start: int, stop: int) -> None:
                await send_events(producer, topic, start, stop)

            with log.open("wb") as out:
                sink = await asyncio.create_subprocess_exec(
                    str(KEMU), "--config", str(config), "sink", "run", "crash", "--progress-interval", "1",
                    env=sink_env(endpoints), stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            watched = psutil.Process(sink.pid)
            peak = 0

            def tree_rss() -> int:
                """The sink's memory: the proportional set size (PSS) of it and of its write worker, summed. PSS is RSS
                with each page shared by the two (the interpreter, libc) counted once, split between them: a sum of RSS
                would count those pages twice."""
                total = 0
                for proc in [watched, *watched.children(recursive=True)]:
                    with contextlib.suppress(psutil.NoSuchProcess):
                        total += proc.memory_full_info().pss
                return total

            async def sample_rss() -> None:
                nonlocal peak
                while True:
                    peak = max(peak, tree_rss())
                    await asyncio.sleep(0.1)

            sampler = asyncio.create_task(sample_rss())
            await produce(0, EVENTS // 3)
            await asyncio.sleep(4)
            rss_before = tree_rss()
            services.stop_minio()
            loop = asyncio.get_running_loop()
            outage_started = loop.time()
            for chunk in range(2):  # the rest arrives while S3 is away
                await produce(EVENTS // 3 * (chunk + 1), EVENTS // 3 * (chunk + 2) if chunk == 0 else EVENTS)
            await asyncio.sleep(max(0.0, OUTAGE_S - (loop.time() - outage_started)))
            assert sink.returncode is None, log.read_text()[-2000:]
            peak_during_outage = peak
            services.start_minio()
            delivered = 0
            for _ in range(600):  # the sink resumes by itself
                offsets = await committed(admin, group)
                delivered = sum(om.offset for om in offsets.values() if om.offset > 0)
                if delivered == EVENTS:
                    break
                await asyncio.sleep(0.1)
            assert delivered == EVENTS, log.read_text()[-2000:]
            sink.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(sink.wait(), 30) == 0
        finally:
            if sampler is not None:
                sampler.cancel()
            if sink is not None and sink.returncode is None:
                sink.kill()
                await sink.wait()
            await producer.stop()
            await admin.close()
        output = log.read_text()
        assert "S3 unavailable" in output
        assert "waiting for S3" in output
        retries = int(output.rsplit("S3 retries ", 1)[1].split()[0].replace(",", ""))
        assert retries > 0
        con = landed(endpoints, "outage/data/")
        assert con.execute("select count(*), count(distinct event_id) from landed").fetchone() == (EVENTS, EVENTS)
        # Consumption paused while S3 was away: memory grew by at most a few buffers, not by the backlog.
        mib = 2**20
        print(
            f"\nPSS before outage {rss_before / mib:.0f} MiB, peak during outage {peak_during_outage / mib:.0f} MiB, "
            f"peak {peak / mib:.0f} MiB"
        )
        assert peak_during_outage - rss_before < 64 * mib
        # The budget, twice the total buffer size plus 200 MiB: 1 MiB buffers for each of the 2 partitions.
        assert peak < 2 * (2 * 1 * mib) + 200 * mib, f"peak {peak / mib:.0f} MiB"
