"""``kemu sink run`` with ``[sinks] catalog_tables``: the delivery stream registers its table and partitions in the
Glue catalog as it writes, so Athena counts what it delivered with no crawler run; a second run adds the new
partition and the new column."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.integration.lake.conftest import rows_of, run_query
from tests.integration.sinks.child import start_sink_run, write_config
from tests.integration.sinks.helpers import delivery_config, event, produce
from tests.support.endpoints import Endpoints

pytestmark = pytest.mark.integration


async def run_sink(config: Path, endpoints: Endpoints, log: Path) -> None:
    proc = await start_sink_run(config, "scores", endpoints, log, "--until-caught-up")
    await asyncio.wait_for(proc.wait(), 240)
    if proc.returncode != 0:
        raise AssertionError((await asyncio.to_thread(log.read_text))[-2000:])


async def test_sink_run_registers_its_table_and_partitions_as_it_writes(
    endpoints: Endpoints, new_topic: Any, new_group_id: Any, bucket_prefix: str, tmp_path: Path, glue: Any,
    athena: Any, database: str, catalog_topic: str,
) -> None:  # fmt: skip
    topic = await new_topic(partitions=2)
    data = "scores/level=!{partitionKeyFromQuery:level}/y=!{timestamp:yyyy}/"
    stream = delivery_config("scores", topic, None, bucket_prefix, new_group_id(), data=data)
    config = write_config(
        tmp_path / "kemu.toml", stream,
        head=f'[kinesis.glue]\ncatalog_topic = "{catalog_topic}"\n',
        sinks=f'catalog_tables = {{ scores = "{database}.scores" }}\n',
    )  # fmt: skip
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
