"""``kemu sink run`` with ``[sinks] catalog_tables``: the delivery stream registers its table and partitions in the
Glue catalog as it writes, so Athena counts what it delivered with no crawler run; a second run adds the new
partition and the new column."""

from __future__ import annotations

import asyncio
import subprocess
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.lake.conftest import rows_of, run_query
from tests.integration.sinks.child import KEMU, sink_env
from tests.integration.sinks.helpers import event, produce
from tests.support.endpoints import Endpoints

pytestmark = pytest.mark.integration


async def run_sink(config: Path, endpoints: Endpoints, log: Path) -> None:
    with log.open("wb") as out:
        proc = await asyncio.create_subprocess_exec(
            str(KEMU), "--config", str(config), "sink", "run", "scores", "--until-caught-up",
            env=sink_env(endpoints), stdout=out, stderr=subprocess.STDOUT,
        )  # fmt: skip
    await asyncio.wait_for(proc.wait(), 240)
    if proc.returncode != 0:
        raise AssertionError((await asyncio.to_thread(log.read_text))[-2000:])


async def test_sink_run_registers_its_table_and_partitions_as_it_writes(
    endpoints: Endpoints, new_topic: Any, new_group_id: Any, bucket_prefix: str, tmp_path: Path, glue: Any,
    athena: Any, database: str, catalog_topic: str,
) -> None:  # fmt: skip
    topic = await new_topic(partitions=2)
    config = tmp_path / "kemu.toml"
    config.write_text(
        f"""
[kinesis.glue]
catalog_topic = "{catalog_topic}"

[sinks]
poll_timeout_ms = 50
catalog_tables = {{ scores = "{database}.scores" }}

[[sinks.delivery_streams]]
name = "scores"
source_topic = "{topic}"
prefix = "{bucket_prefix}scores/level=!{{partitionKeyFromQuery:level}}/y=!{{timestamp:yyyy}}/"
error_output_prefix = "{bucket_prefix}errors/!{{firehose:error-output-type}}/"
consumer_group = "{new_group_id()}"
buffering = {{ size_mib = 1, interval_s = 1 }}
"""
    )
    first = [orjson.dumps(event(i, level=i % 2)) for i in range(200)]
    await produce(endpoints.kafka_bootstrap, topic, first, 2)
    await run_sink(config, endpoints, tmp_path / "first.log")

    table = glue.get_table(DatabaseName=database, Name="scores")["Table"]
    assert table["StorageDescriptor"]["Location"] == f"s3://{endpoints.bucket}/{bucket_prefix}scores/"
    assert [k["Name"] for k in table["PartitionKeys"]] == ["level", "y"]
    values = sorted(
        p["Values"][0] for p in glue.get_partitions(DatabaseName=database, TableName="scores")["Partitions"]
    )
    assert values == ["0", "1"]

    second = [orjson.dumps(event(i, level=2, bonus=i)) for i in range(200, 250)]
    await produce(endpoints.kafka_bootstrap, topic, second, 2)
    await run_sink(config, endpoints, tmp_path / "second.log")
    values = sorted(
        p["Values"][0] for p in glue.get_partitions(DatabaseName=database, TableName="scores")["Partitions"]
    )
    assert values == ["0", "1", "2"]
    columns = [
        c["Name"] for c in glue.get_table(DatabaseName=database, Name="scores")["Table"]["StorageDescriptor"]["Columns"]
    ]
    assert "bonus" in columns

    sql = "SELECT count(*), count(DISTINCT event_id), count(bonus) FROM scores"
    execution = run_query(athena, sql, database)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(athena, execution["QueryExecutionId"]) == [["250", "250", "50"]]
