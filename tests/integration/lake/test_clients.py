"""Unchanged clients pointed at the endpoint: the aws-cli (glue, athena), awswrangler (``wr.catalog.*`` and
``wr.athena.read_sql_query`` on its default CTAS path and with ``ctas_approach=False``) and pyathena's DB-API
cursor, over data the sinks delivered (the demo's Firehose-like delivery) and a crawler found."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from sinks import BufferingHints, DeliveryStream, DeliveryStreamConfig
from tests.integration.lake.conftest import wait_crawler
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import REGION

pytestmark = pytest.mark.integration
AWS = Path(sys.executable).with_name("aws")


@pytest.fixture(scope="module")
async def crawled(glue: Any, kafka_bootstrap: str, endpoints: Endpoints) -> tuple[str, str]:
    """A table of 300 rows in a database of this module's own, partitioned Hive-style by ``dt`` (and the delivery's
    year, ``y``): the records went through Kafka and the sinks' delivery (the demo's Firehose-like sink), then a
    crawler."""
    database, topic = f"clients_{uuid.uuid4().hex[:8]}", f"lake-clients-{uuid.uuid4().hex[:8]}"
    admin = AIOKafkaAdminClient(bootstrap_servers=kafka_bootstrap)
    try:
        await admin.start()
        await admin.create_topics([NewTopic(topic, num_partitions=2, replication_factor=1)])
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap, acks="all")
        try:
            await producer.start()
            for day in range(3):
                for i in range(100):
                    record = {"event_id": f"{day}-{i}", "ms": i, "day": f"2026-01-0{day + 1}"}
                    await producer.send(topic, json.dumps(record).encode(), partition=i % 2)
            await producer.flush()
        finally:
            await producer.stop()
        root = f"lake-clients/{topic}/"
        config = DeliveryStreamConfig(
            name="clients", source_topic=topic, bucket=endpoints.bucket,
            prefix=root + "dt=!{partitionKeyFromQuery:day}/y=!{timestamp:yyyy}/",
            error_output_prefix=f"lake-clients-errors/{topic}/!{{firehose:error-output-type}}/",
            buffering=BufferingHints(size_mib=1, interval_s=1), consumer_group=f"lake-clients-{topic}",
        )  # fmt: skip
        stats = await DeliveryStream(config, kafka_bootstrap, endpoints.s3_connection(), stop_when_caught_up=True).run(
            asyncio.Event()
        )
    finally:
        await admin.delete_topics([topic])
        await admin.close()
    assert stats.records_delivered == 300
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(
        Name=f"{database}-clicks", Role="r", DatabaseName=database,
        Targets={"S3Targets": [{"Path": f"s3://{endpoints.bucket}/{root}"}]},
    )  # fmt: skip
    assert (await asyncio.to_thread(wait_crawler, glue, f"{database}-clicks"))["LastCrawl"]["Status"] == "SUCCEEDED"
    return database, root.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")


@pytest.fixture
def aws_env(lake_url: str, endpoints: Endpoints) -> dict[str, str]:
    """What `kemu services env` exports, for this test's endpoint (S3 included, as the edge forwards it)."""
    per_service = {k: lake_url for k in os.environ if k.startswith("AWS_ENDPOINT_URL_")}
    return {
        **os.environ,
        **per_service,
        "AWS_ENDPOINT_URL": lake_url,
        "AWS_ACCESS_KEY_ID": "test",
        "AWS_SECRET_ACCESS_KEY": "test",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }


def test_aws_cli(crawled: tuple[str, str], aws_env: dict[str, str]) -> None:
    database, table = crawled

    def aws(*args: str) -> Any:
        done = subprocess.run([str(AWS), *args, "--output", "json"], env=aws_env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return json.loads(done.stdout) if done.stdout.strip() else None

    tables = aws("glue", "get-tables", "--database-name", database)
    assert [t["Name"] for t in tables["TableList"]] == [table]
    partitions = aws("glue", "get-partitions", "--database-name", database, "--table-name", table,
                     "--expression", "dt > '2026-01-01'")  # fmt: skip
    assert sorted(p["Values"][0] for p in partitions["Partitions"]) == ["2026-01-02", "2026-01-03"]
    started = aws("athena", "start-query-execution", "--query-string", f"SELECT count(*) FROM {table}",
                  "--query-execution-context", f"Database={database}")  # fmt: skip
    execution_id = started["QueryExecutionId"]
    for _ in range(600):
        state = aws("athena", "get-query-execution", "--query-execution-id", execution_id)["QueryExecution"]
        if state["Status"]["State"] not in ("QUEUED", "RUNNING"):
            break
    assert state["Status"]["State"] == "SUCCEEDED", state["Status"]
    results = aws("athena", "get-query-results", "--query-execution-id", execution_id)
    assert results["ResultSet"]["Rows"][1]["Data"][0]["VarCharValue"] == "300"


def test_awswrangler(crawled: tuple[str, str], aws_env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in aws_env.items():
        if key.startswith("AWS_"):
            monkeypatch.setenv(key, value)
    import awswrangler as wr

    database, table = crawled
    assert database in wr.catalog.databases(limit=1000)["Database"].tolist()
    assert wr.catalog.tables(database=database)["Table"].tolist() == [table]
    assert wr.catalog.does_table_exist(database=database, table=table)
    assert wr.catalog.get_table_types(database=database, table=table) == {
        "event_id": "string", "ms": "bigint", "day": "string", "dt": "string", "y": "string"
    }  # fmt: skip
    partitions = wr.catalog.get_partitions(database=database, table=table, expression="dt = '2026-01-02'")
    assert [values[0] for values in partitions.values()] == ["2026-01-02"]
    sql = f"SELECT dt, count(*) AS n, count(DISTINCT event_id) AS ids FROM {table} GROUP BY dt ORDER BY dt"
    plain = wr.athena.read_sql_query(sql, database=database, ctas_approach=False)
    assert plain["n"].tolist() == [100, 100, 100]
    assert plain["ids"].tolist() == [100, 100, 100]
    ctas = wr.athena.read_sql_query(sql, database=database)  # the default path: CREATE TABLE AS, then Parquet
    assert ctas["dt"].tolist() == ["2026-01-01", "2026-01-02", "2026-01-03"]
    assert ctas["n"].tolist() == [100, 100, 100]
    assert wr.catalog.tables(database=database)["Table"].tolist() == [table]  # its temporary table is gone


def test_pyathena(crawled: tuple[str, str], lake_url: str, bucket: str) -> None:
    from pyathena import connect

    database, table = crawled
    connection = connect(
        s3_staging_dir=f"s3://{bucket}/pyathena-results/", region_name=REGION, schema_name=database,
        endpoint_url=lake_url, aws_access_key_id="test", aws_secret_access_key="test",  # noqa: S106
    )  # fmt: skip
    cursor = connection.cursor()
    cursor.execute(f"SELECT dt, count(*), max(ms) FROM {table} WHERE dt >= %(day)s GROUP BY dt ORDER BY dt",
                   {"day": "2026-01-02"})  # fmt: skip
    assert cursor.fetchall() == [("2026-01-02", 100, 99), ("2026-01-03", 100, 99)]
    assert [d[0] for d in cursor.description] == ["dt", "count_star()", "max(ms)"]
    cursor.execute(f"SELECT event_id FROM {table} ORDER BY event_id")
    assert len(cursor.fetchall()) == 300  # more than one page of GetQueryResults
