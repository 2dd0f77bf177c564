"""The write worker process: killed mid-run, it is restarted and nothing is lost or doubled."""

from __future__ import annotations

import asyncio
import os
import signal
import uuid

import psutil
import pytest
import uvloop
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from sinks import DeliveryStream
from tests.integration.sinks.helpers import delivery_config, encode, event, landed, produce
from tests.support.endpoints import Endpoints


def worker_pids() -> set[int]:
    return {
        child.pid
        for child in psutil.Process().children(recursive=True)
        if "sinks.worker_main" in " ".join(child.cmdline())
    }


async def test_a_killed_write_worker_is_restarted_and_every_event_lands_once(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str
) -> None:
    topic = await new_topic(partitions=2)
    events = [event(i) for i in range(20_000)]
    await produce(endpoints.kafka_bootstrap, topic, encode(events), partitions=2)
    config = delivery_config("killed-worker", topic, endpoints.bucket, bucket_prefix, new_group_id(), interval_s=60)
    before = worker_pids()
    stream = DeliveryStream(config, endpoints.kafka_bootstrap, endpoints.s3_connection(), stop_when_caught_up=True)
    run = asyncio.create_task(stream.run(asyncio.Event()))
    # Kill the worker once its first write is done, while the stream still has records to write.
    for _ in range(600):
        if stream.stats.flushes >= 1 or run.done():
            break
        await asyncio.sleep(0.01)
    spawned = worker_pids() - before
    assert len(spawned) == 1, spawned
    os.kill(spawned.pop(), signal.SIGKILL)
    await asyncio.wait_for(run, 120)

    assert stream.stats.worker_restarts >= 1
    assert stream.stats.records_delivered >= len(events)  # a rewritten object is counted again, never lost
    con = landed(endpoints, bucket_prefix + "data/")
    assert con.execute("select count(*), count(distinct event_id) from landed").fetchone() == (20_000, 20_000)
    assert worker_pids() - before == set()  # the stream's worker exits with it


@pytest.mark.parametrize("loop", ["asyncio", "uvloop"])
def test_the_write_worker_is_out_of_reach_of_a_terminal_s_ctrl_c(
    endpoints: Endpoints, new_group_id, bucket_prefix: str, loop: str
) -> None:
    """Ctrl-C in a terminal signals the whole foreground process group. The worker must not get it: interrupted
    while it is still importing, before it can ignore the signal, it printed a KeyboardInterrupt traceback. The
    consuming process decides when the worker stops (the end of its input). Under uvloop too, where the Firehose
    API runs its delivery streams (``process_group=`` is refused there)."""
    runner = uvloop.run if loop == "uvloop" else asyncio.run
    runner(worker_out_of_the_group(endpoints, new_group_id(), bucket_prefix))


async def worker_out_of_the_group(endpoints: Endpoints, group: str, bucket_prefix: str) -> None:
    topic = f"ctrl-c-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
    try:
        await admin.start()
        await admin.create_topics([NewTopic(topic, num_partitions=1, replication_factor=1)])
    finally:
        await admin.close()
    config = delivery_config("ctrl-c-worker", topic, endpoints.bucket, bucket_prefix, group)
    before = worker_pids()
    stop = asyncio.Event()
    stream = DeliveryStream(config, endpoints.kafka_bootstrap, endpoints.s3_connection())
    run = asyncio.create_task(stream.run(stop))
    try:
        for _ in range(3000):
            spawned = worker_pids() - before
            if spawned or run.done():
                break
            await asyncio.sleep(0.01)
        assert len(spawned) == 1, spawned
        assert os.getpgid(spawned.pop()) != os.getpgid(0)
    finally:
        stop.set()
        await asyncio.wait_for(run, 60)
        admin = AIOKafkaAdminClient(bootstrap_servers=endpoints.kafka_bootstrap)
        try:
            await admin.start()
            await admin.delete_topics([topic])
        finally:
            await admin.close()
