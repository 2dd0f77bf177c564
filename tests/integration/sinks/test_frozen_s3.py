"""MinIO frozen (SIGSTOP) mid-run (issue 14, item 11): the sink shows it is waiting for S3 while frozen, retries,
resumes by itself when MinIO does, and loses and doubles nothing.

A frozen server differs from a dead one: its port still accepts connections (the kernel completes them), requests
are sent and simply never answered. Killed, MinIO refused connections and the sink said "waiting for S3" at once;
frozen for 30 to 60 seconds, it said nothing and progress stalled silently.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import subprocess
from pathlib import Path

import psutil
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from pydantic import SecretStr

from emulator.services import LocalServices
from emulator.settings import ServicesSettings
from sinks import DeliveryStream, DeliveryStreamConfig, S3Connection
from tests.integration.sinks.helpers import committed, landed, local_endpoints, send_events
from tests.integration.sinks.test_crash import KEMU, sink_env, write_config
from tests.support.endpoints import Endpoints

EVENTS = 40_000
#: The longest the test keeps MinIO frozen while it waits to see the sink say so (the review froze it 30-60 s).
FREEZE_S = 45


async def test_a_frozen_minio_shows_as_waiting_for_s3_and_nothing_is_lost(tmp_path: Path) -> None:
    services = LocalServices(ServicesSettings(), bucket="kemu-test", run_dir=tmp_path / "services")
    with services as state:
        endpoints = local_endpoints(services, state, "frozen S3 test")
        minio = state.minio.process.handle()
        assert minio is not None
        topic, group = "frozen-events", "frozen-group"
        config = write_config(tmp_path / "kemu.toml", topic, "frozen/", group)
        log = tmp_path / "sink.log"
        admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka_bootstrap, linger_ms=20)
        sink: asyncio.subprocess.Process | None = None
        frozen = False
        try:
            await admin.start()
            await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
            await producer.start()

            async def produce(start: int, stop: int) -> None:
                await send_events(producer, topic, start, stop)

            async def delivered() -> int:
                offsets = await committed(admin, group)
                return sum(om.offset for om in offsets.values() if om.offset > 0)

            with log.open("wb") as out:
                sink = await asyncio.create_subprocess_exec(
                    str(KEMU), "--config", str(config), "sink", "run", "crash", "--progress-interval", "1",
                    env=sink_env(endpoints), stdout=out, stderr=subprocess.STDOUT,
                )  # fmt: skip
            await produce(0, EVENTS // 2)
            for _ in range(600):  # the sink is up and writing before MinIO freezes
                if await delivered() > 0:
                    break
                await asyncio.sleep(0.1)
            minio.suspend()
            frozen = True
            await produce(EVENTS // 2, EVENTS)  # the rest arrives while S3 is frozen
            loop = asyncio.get_running_loop()
            frozen_at = loop.time()
            for _ in range(FREEZE_S * 2):
                if "waiting for S3" in log.read_text():
                    break
                await asyncio.sleep(0.5)
            print(f"\n'waiting for S3' shown {loop.time() - frozen_at:.1f} s after MinIO froze")
            seen = log.read_text()
            assert "waiting for S3" in seen, f"nothing said about S3 within {FREEZE_S} s of the freeze:\n{seen[-3000:]}"
            assert "S3 unavailable" in seen or "S3 is not answering" in seen, seen[-3000:]
            assert sink.returncode is None, seen[-2000:]
            minio.resume()
            frozen = False
            count = 0
            for _ in range(1200):  # the sink resumes by itself
                count = await delivered()
                if count == EVENTS:
                    break
                await asyncio.sleep(0.1)
            assert count == EVENTS, log.read_text()[-3000:]
            sink.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(sink.wait(), 60) == 0
        finally:
            if frozen:
                minio.resume()
            if sink is not None and sink.returncode is None:
                sink.kill()
                await sink.wait()
            await producer.stop()
            await admin.close()
        output = log.read_text()
        retries = int(output.rsplit("S3 retries ", 1)[1].split()[0].replace(",", ""))
        assert retries > 0
        con = landed(endpoints, "frozen/data/")
        assert con.execute("select count(*), count(distinct event_id) from landed").fetchone() == (EVENTS, EVENTS)
        assert psutil.pid_exists(minio.pid)


async def test_an_s3_that_never_answers_shows_as_waiting_from_the_start(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str
) -> None:
    """An endpoint that accepts connections and never answers (what a frozen server is to its clients), from the
    moment the stream starts: the write worker's first S3 call, loading the schema registry, hangs there. The
    stream must say it is waiting for S3 while it retries."""
    topic = await new_topic(partitions=1)
    with socket.socket() as black_hole:
        black_hole.bind(("127.0.0.1", 0))
        black_hole.listen(64)  # the kernel completes connections; nobody reads or answers them
        port = black_hole.getsockname()[1]
        config = DeliveryStreamConfig(
            name="frozen-at-start", source_topic=topic, bucket=endpoints.bucket, prefix=bucket_prefix,
            consumer_group=new_group_id(),
        )  # fmt: skip
        s3 = S3Connection(endpoint_url=f"http://127.0.0.1:{port}", access_key_id="a", secret_access_key=SecretStr("b"))
        stream = DeliveryStream(config, endpoints.kafka_bootstrap, s3)
        run = asyncio.create_task(stream.run(asyncio.Event()))
        try:
            for _ in range(FREEZE_S * 10):
                if stream.stats.s3_waiting:
                    break
                assert not run.done(), run
                await asyncio.sleep(0.1)
            assert stream.stats.s3_waiting, f"not shown as waiting for S3 within {FREEZE_S} s"
            assert stream.stats.s3_retries >= 1
        finally:
            run.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await run
