"""A Kinesis/Firehose/Glue/Athena endpoint per test module (the session's Kafka and MinIO, a catalog topic of its
own), boto3 clients for it, Parquet objects to crawl, and a helper that runs an Athena query to its end."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emulator.config.firehose import FirehoseSettings
from emulator.config.glue import GlueSettings
from emulator.kinesis import KinesisSettings
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import aws_client, serve_kinesis

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def lake_settings(catalog_topic: str, bucket: str) -> KinesisSettings:
    """The catalog, and Firehose's delivery streams, in topics of the test module's own."""
    firehose = FirehoseSettings(metadata_topic=f"{catalog_topic}-firehose")
    return KinesisSettings(glue=GlueSettings(catalog_topic=catalog_topic), firehose=firehose).with_result_bucket(bucket)


@pytest.fixture(scope="module")
def catalog_topic() -> str:
    return f"kemu-glue-test-{uuid.uuid4().hex[:8]}"


@pytest.fixture(scope="module")
def lake_url(kafka_bootstrap: str, endpoints: Endpoints, catalog_topic: str) -> Iterator[str]:
    with serve_kinesis(
        lake_settings(catalog_topic, endpoints.bucket), kafka_bootstrap, endpoints.s3_connection()
    ) as url:
        yield url


def client(service: str, url: str) -> Any:
    # The endpoint accepts any key unless it checks signatures.
    return aws_client(service, url, "test", "test")


@pytest.fixture(scope="module")
def glue(lake_url: str) -> Any:
    return client("glue", lake_url)


@pytest.fixture(scope="module")
def athena(lake_url: str) -> Any:
    return client("athena", lake_url)


@pytest.fixture
def database(glue: Any, unique_name: Any) -> str:
    name = unique_name("db").replace("-", "_").lower()
    name = name[:50] + name[-8:]  # the unique suffix survives the cut
    glue.create_database(DatabaseInput={"Name": name})
    return name


def put_parquet(s3: S3Client, bucket: str, key: str, table: pa.Table) -> int:
    buffer = io.BytesIO()
    pq.write_table(table, buffer)
    s3.put_object(Bucket=bucket, Key=key, Body=buffer.getvalue())
    return len(buffer.getvalue())


def wait_crawler(glue: Any, name: str, timeout_s: float = 60) -> dict[str, Any]:
    glue.start_crawler(Name=name)
    deadline = time.monotonic() + timeout_s
    while True:
        crawler: dict[str, Any] = glue.get_crawler(Name=name)["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            return crawler
        if time.monotonic() > deadline:
            raise TimeoutError(f"crawler {name} still {crawler['State']}")
        time.sleep(0.1)


def run_query(athena: Any, sql: str, database: str, timeout_s: float = 120, **extra: Any) -> dict[str, Any]:
    """Start ``sql`` and wait for a final state; returns the QueryExecution."""
    execution_id = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database}, **extra)[
        "QueryExecutionId"
    ]
    deadline = time.monotonic() + timeout_s
    while True:
        execution: dict[str, Any] = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            return execution
        if time.monotonic() > deadline:
            raise TimeoutError(f"query {execution_id} still {execution['Status']['State']}")
        time.sleep(0.05)


def rows_of(athena: Any, execution_id: str) -> list[list[str | None]]:
    """Every row of a result through GetQueryResults' pages (the header row dropped)."""
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"]]
    return rows[1:]
