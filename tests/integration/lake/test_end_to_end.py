"""The lake end to end: N events produced, delivered by ``kemu sink run`` while it is SIGKILLed several times,
crawled into a table through the Glue API (Firehose's default ``yyyy/MM/dd/HH/`` layout), and counted through
Athena: ``count(*)`` and ``count(DISTINCT event_id)`` are both N."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from tests.integration.lake.conftest import rows_of, run_query, wait_crawler
from tests.integration.sinks.helpers import event
from tests.integration.sinks.test_crash import KEMU, sink_env
from tests.support.endpoints import Endpoints

pytestmark = pytest.mark.integration

EVENTS = 20_000
KILLS = 3


async def test_produce_deliver_with_kills_crawl_and_count(
    endpoints: Endpoints, new_topic: Any, new_group_id: Any, bucket_prefix: str, tmp_path: Path, glue: Any,
    athena: Any, database: str,
) -> None:  # fmt: skip
    partitions = 2
    topic = await new_topic(partitions=partitions)
    config = tmp_path / "kemu.toml"
    config.write_text(
        f"""
[sinks]
poll_timeout_ms = 50

[[sinks.delivery_streams]]
name = "lake"
source_topic = "{topic}"
prefix = "{bucket_prefix}deliveries/"
consumer_group = "{new_group_id()}"
buffering = {{ size_mib = 1, interval_s = 1 }}
"""
    )
    env = sink_env(endpoints)

    async def produce() -> None:
        producer = AIOKafkaProducer(bootstrap_servers=endpoints.kafka_bootstrap, acks="all", linger_ms=20)
        try:
            await producer.start()
            for chunk in range(10):
                sends = [
                    await producer.send(topic, orjson.dumps(event(i)), partition=i % partitions)
                    for i in range(chunk * EVENTS // 10, (chunk + 1) * EVENTS // 10)
                ]
                await asyncio.gather(*sends)
                await asyncio.sleep(0.3)
        finally:
            await producer.stop()

    producing = asyncio.create_task(produce())
    for kill in range(KILLS):
        with (tmp_path / f"run-{kill}.log").open("wb") as out:
            proc = await asyncio.create_subprocess_exec(
                str(KEMU), "--config", str(config), "sink", "run", "lake", env=env, stdout=out,
                stderr=subprocess.STDOUT,
            )  # fmt: skip
        await asyncio.sleep(2.0 + kill)
        proc.send_signal(signal.SIGKILL)
        await asyncio.wait_for(proc.wait(), 10)
    await producing
    final = tmp_path / "final.log"
    with final.open("wb") as out:
        done = await asyncio.create_subprocess_exec(
            str(KEMU), "--config", str(config), "sink", "run", "lake", "--until-caught-up", env=env, stdout=out,
            stderr=subprocess.STDOUT,
        )  # fmt: skip
    await asyncio.wait_for(done.wait(), 240)
    assert done.returncode == 0, final.read_text()[-2000:]

    glue.create_crawler(
        Name=f"{database}-e2e", Role="r", DatabaseName=database,
        Targets={"S3Targets": [{"Path": f"s3://{endpoints.bucket}/{bucket_prefix}deliveries/"}]},
    )  # fmt: skip
    crawler = wait_crawler(glue, f"{database}-e2e")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    table = glue.get_table(DatabaseName=database, Name="deliveries")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == [f"partition_{i}" for i in range(4)]
    execution = run_query(athena, "SELECT count(*), count(DISTINCT event_id) FROM deliveries", database)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(athena, execution["QueryExecutionId"]) == [[str(EVENTS), str(EVENTS)]]
