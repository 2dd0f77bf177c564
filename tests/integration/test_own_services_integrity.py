"""State integrity of the embedded services, on a Kafka and MinIO of this module's own (started by the code under
test, in its own run directory): the run and data directories are private, and deleted streams stay deleted.

Deleted streams came back: with ``kemu api serve`` running, all 495 deleted streams within 0.1 s; under ``kemu up``
a deleted 2-shard stream after 301 s, as a 1-shard stream. Confirmed cause: the broker created topics automatically
(``auto.create.topics.enable=true``) whenever a client asked about one by name, and aiokafka's clients ask, with
auto-creation allowed, about every topic they ever used, at each metadata refresh (every 5 minutes, or at once
after an error). The clients here refresh every 0.5 s, so a few seconds stand for many minutes of the real ones.
"""

from __future__ import annotations

import asyncio
import contextlib
import stat
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from botocore.exceptions import ClientError

from analytics import AnalyticsConfig, AnalyticsEngine, LatestResults, load_queries
from emulator.api.streams import StreamsInspector
from emulator.kinesis import KinesisSettings
from emulator.services import LocalServices
from emulator.services.state import ServicesState
from emulator.settings import ServicesSettings
from tests.integration.analytics_support import write_query_dir
from tests.integration.firehose.conftest import s3_config, wait_active
from tests.integration.test_analytics_live import QUERY
from tests.support.endpoints import launched
from tests.support.kinesis_server import firehose_client, kinesis_client, serve_kinesis
from tests.support.kinesis_server import wait_active as wait_stream_active

BUCKET = "kemu-test"
#: How long the deleted streams are watched: many refreshes of the 0.5 s clients below.
WATCH_S = 8.0


@pytest.fixture(scope="module")
def own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LocalServices, ServicesState]]:
    services = LocalServices(ServicesSettings(), bucket=BUCKET, run_dir=tmp_path_factory.mktemp("own") / "run")
    state = services.start()
    try:
        yield services, state
    finally:
        services.stop()


def test_the_run_and_data_directories_are_private(own: tuple[LocalServices, ServicesState]) -> None:
    services, _ = own
    run_dir = services.run_dir
    for directory in (run_dir, run_dir / "kafka", run_dir / "kafka-data", run_dir / "minio", run_dir / "minio-data"):
        assert directory.is_dir(), directory
        assert stat.S_IMODE(directory.stat().st_mode) == 0o700, f"{directory} is {oct(directory.stat().st_mode)}"


async def test_the_analytics_checkpoint_directory_is_private(
    own: tuple[LocalServices, ServicesState], tmp_path: Path
) -> None:
    _, state = own
    checkpoints = tmp_path / "checkpoints"
    checkpoints.mkdir(mode=0o755)  # as an older kemu left it
    checkpoints.chmod(0o755)
    query_dir = write_query_dir(tmp_path / "queries", f"private-{uuid.uuid4().hex[:6]}", "private_sum", QUERY)
    config = AnalyticsConfig(checkpoint_dir=checkpoints, builtin_queries=False)
    query = load_queries([query_dir], builtins=False)["private_sum"]
    engine = AnalyticsEngine([query], state.kafka.bootstrap_servers, config, LatestResults())
    stop = asyncio.Event()
    task = asyncio.create_task(engine.run(stop))
    try:
        for _ in range(200):
            if engine.runners:
                break
            assert not task.done(), task
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    assert stat.S_IMODE(checkpoints.stat().st_mode) == 0o700


async def topics_now(admin: AIOKafkaAdminClient) -> dict[str, int]:
    return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(None) if t["error_code"] == 0}


async def watch_deleted(admin: AIOKafkaAdminClient, names: list[str]) -> None:
    """Fail if a deleted stream's topic comes back once gone (or never goes); watch ``WATCH_S`` after all went."""
    loop = asyncio.get_running_loop()
    gone: set[str] = set()
    give_up, all_gone_at = loop.time() + 30, None
    while all_gone_at is None or loop.time() < all_gone_at + WATCH_S:
        present = await topics_now(admin)
        back = {name: present[name] for name in gone if name in present}
        assert not back, f"deleted streams came back (name: partitions): {back}"
        gone |= {name for name in names if name not in present}
        if all_gone_at is None and gone == set(names):
            all_gone_at = loop.time()
        assert all_gone_at is not None or loop.time() < give_up, f"never gone after DeleteStream: {set(names) - gone}"
        await asyncio.sleep(0.05)


async def test_deleted_streams_stay_deleted_while_the_api_sinks_and_analytics_run(
    own: tuple[LocalServices, ServicesState], tmp_path: Path
) -> None:
    services, state = own
    bootstrap = state.kafka.bootstrap_servers
    s3 = launched(services, state, "us-east-1", "own services").s3_connection()
    run = uuid.uuid4().hex[:6]
    names = [f"doomed-{run}-{i}" for i in range(6)]
    inspector = StreamsInspector(bootstrap, poll_s=0.2)  # what GET /streams polls, in `kemu api serve` and `kemu up`
    stop = asyncio.Event()
    tasks: list[asyncio.Task[Any]] = []
    with serve_kinesis(KinesisSettings(), bootstrap, s3) as url:
        kinesis, firehose = kinesis_client(url), firehose_client(url)
        for name in names:
            kinesis.create_stream(StreamName=name, ShardCount=2)
        for name in names:
            wait_stream_active(kinesis, name)
            kinesis.put_records(
                StreamName=name,
                Records=[
                    {
                        "Data": b'{"player_id": "p", "points": 1, "event_time": "2026-11-27T08:00:00Z"}',
                        "PartitionKey": str(i),
                    }
                    for i in range(20)
                ],
            )
        # Sinks: Firehose delivery streams reading two of the streams.
        for index, name in enumerate(names[:2]):
            firehose.create_delivery_stream(
                DeliveryStreamName=f"doomed-{run}-{index}",
                DeliveryStreamType="KinesisStreamAsSource",
                KinesisStreamSourceConfiguration={
                    "KinesisStreamARN": f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}",
                    "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                },
                ExtendedS3DestinationConfiguration=s3_config(BUCKET, f"doomed-{run}/", 1),
            )
            wait_active(firehose, f"doomed-{run}-{index}")
        # Analytics: a live query over another one.
        query_dir = write_query_dir(tmp_path / "queries", names[2], "doomed_sum", QUERY)
        config = AnalyticsConfig(checkpoint_dir=tmp_path / "checkpoints", builtin_queries=False)
        engine = AnalyticsEngine(
            [load_queries([query_dir], builtins=False)["doomed_sum"]], bootstrap, config, LatestResults()
        )
        admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
        # Clients of the streams that live on after the delete, refreshing their metadata every 0.5 s.
        producer = AIOKafkaProducer(bootstrap_servers=bootstrap, metadata_max_age_ms=500)
        consumer = AIOKafkaConsumer(*names[:2], bootstrap_servers=bootstrap, group_id=None, metadata_max_age_ms=500)
        try:
            await admin.start()
            await producer.start()
            await consumer.start()
            tasks = [asyncio.create_task(engine.run(stop)), asyncio.create_task(inspector.run())]
            for name in names:
                await producer.send_and_wait(name, b"{}", partition=1)
            await consumer.getmany(timeout_ms=1000)
            await asyncio.sleep(1.0)  # the inspector, sinks and engine have all seen the streams
            assert set(names) <= set(await topics_now(admin))

            for name in names:
                kinesis.delete_stream(StreamName=name)
            await watch_deleted(admin, names)
            for name in names:
                with pytest.raises(ClientError) as caught:
                    kinesis.describe_stream_summary(StreamName=name)
                assert caught.value.response["Error"]["Code"] == "ResourceNotFoundException"
            assert not set(names) & set(kinesis.list_streams(Limit=10000)["StreamNames"])
        finally:
            stop.set()
            for task in tasks:
                task.cancel()
            for outcome in await asyncio.gather(*tasks, return_exceptions=True):
                if isinstance(outcome, BaseException) and not isinstance(outcome, asyncio.CancelledError):
                    print(f"a component ended with {outcome!r} once its stream was gone")
            await consumer.stop()
            await producer.stop()
            await admin.close()
            for index in range(2):
                with contextlib.suppress(ClientError):
                    firehose.delete_delivery_stream(DeliveryStreamName=f"doomed-{run}-{index}")
