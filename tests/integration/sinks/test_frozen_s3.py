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
from pathlib import Path

import psutil
from pydantic import SecretStr

from sinks import DeliveryStream, DeliveryStreamConfig, S3Connection
from tests.integration.sinks.child import sink_child
from tests.integration.sinks.helpers import landed
from tests.support.endpoints import Endpoints

EVENTS = 40_000
#: The longest the test keeps MinIO frozen while it waits to see the sink say so (the review froze it 30-60 s).
FREEZE_S = 45


async def test_a_frozen_minio_shows_as_waiting_for_s3_and_nothing_is_lost(tmp_path: Path) -> None:
    async with sink_child(tmp_path, "frozen") as child:
        minio = child.state.minio.process.handle()
        assert minio is not None
        frozen = False
        try:
            await child.produce(0, EVENTS // 2)
            for _ in range(600):  # the sink is up and writing before MinIO freezes
                if await child.delivered() > 0:
                    break
                await asyncio.sleep(0.1)
            minio.suspend()
            frozen = True
            await child.produce(EVENTS // 2, EVENTS)  # the rest arrives while S3 is frozen
            loop = asyncio.get_running_loop()
            frozen_at = loop.time()
            for _ in range(FREEZE_S * 2):
                if "waiting for S3" in child.output():
                    break
                await asyncio.sleep(0.5)
            print(f"\n'waiting for S3' shown {loop.time() - frozen_at:.1f} s after MinIO froze")
            seen = child.output()
            assert "waiting for S3" in seen, f"nothing said about S3 within {FREEZE_S} s of the freeze:\n{seen[-3000:]}"
            assert "S3 unavailable" in seen or "S3 is not answering" in seen, seen[-3000:]
            assert child.process.returncode is None, seen[-2000:]
            minio.resume()
            frozen = False
            count = await child.wait_delivered(EVENTS, tries=1200)  # the sink resumes by itself
            assert count == EVENTS, child.output()[-3000:]
            child.process.send_signal(signal.SIGTERM)
            assert await asyncio.wait_for(child.process.wait(), 60) == 0
        finally:
            if frozen:
                minio.resume()
        output = child.output()
        retries = int(output.rsplit("S3 retries ", 1)[1].split()[0].replace(",", ""))
        assert retries > 0
        con = landed(child.endpoints, "frozen/data/")
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
