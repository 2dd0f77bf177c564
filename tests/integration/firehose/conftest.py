"""A Kinesis+Firehose API server per test module (the session's Kafka and MinIO), boto3 clients, helpers."""

from __future__ import annotations

import io
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from emulator.firehose import FirehoseSettings
from emulator.kinesis import KinesisSettings
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import deleted_afterwards, firehose_client, kinesis_client, serve_kinesis

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def settings(metadata_topic: str, **firehose: Any) -> KinesisSettings:
    """Settings with their own Firehose metadata topic: other sessions' delivery streams stay out of this one."""
    return KinesisSettings(firehose=FirehoseSettings(metadata_topic=metadata_topic, poll_timeout_ms=100, **firehose))


@pytest.fixture(scope="module")
def firehose_url(kafka_bootstrap: str, endpoints: Endpoints) -> Iterator[str]:
    topic = f"kemu-firehose-metadata-test-{uuid.uuid4().hex[:8]}"
    with serve_kinesis(settings(topic), kafka_bootstrap, endpoints.s3_connection()) as url:
        yield url


@pytest.fixture(scope="module")
def firehose(firehose_url: str) -> Any:
    return firehose_client(firehose_url)


@pytest.fixture(scope="module")
def kinesis(firehose_url: str) -> Any:
    return kinesis_client(firehose_url)


@pytest.fixture
def delivery_name(unique_name: Callable[..., str]) -> Callable[[], str]:
    return lambda: unique_name("fh", width=40)  # a delivery stream's name has at most 64 characters


def s3_config(bucket: str, prefix: str, interval_s: int = 1, **extra: Any) -> dict[str, Any]:
    """An ExtendedS3DestinationConfiguration to Parquet under ``prefix``data/, bad records under ``prefix``errors/."""
    return {
        "RoleARN": "arn:aws:iam::000000000000:role/firehose",
        "BucketARN": f"arn:aws:s3:::{bucket}",
        "Prefix": f"{prefix}data/",
        "ErrorOutputPrefix": f"{prefix}errors/!{{firehose:error-output-type}}/",
        "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": interval_s},
        "DataFormatConversionConfiguration": {
            "Enabled": True,
            "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
        },
        **extra,
    }


@pytest.fixture
def new_delivery_stream(firehose: Any, delivery_name: Callable[[], str]) -> Iterator[Callable[..., str]]:
    """``new_delivery_stream(**create_kwargs)`` creates an ACTIVE delivery stream; deleted after the test."""
    with deleted_afterwards(lambda name: firehose.delete_delivery_stream(DeliveryStreamName=name)) as track:

        def create(**kwargs: Any) -> str:
            name = track(kwargs.pop("DeliveryStreamName", None) or delivery_name())
            firehose.create_delivery_stream(DeliveryStreamName=name, **kwargs)
            wait_active(firehose, name)
            return name

        yield create


def wait_active(firehose: Any, name: str, timeout_s: float = 30.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        description: dict[str, Any] = firehose.describe_delivery_stream(DeliveryStreamName=name)[
            "DeliveryStreamDescription"
        ]
        if description["DeliveryStreamStatus"] == "ACTIVE":
            return description
        assert description["DeliveryStreamStatus"] == "CREATING", description
        assert time.monotonic() < deadline, f"{name} still CREATING"
        time.sleep(0.05)


def wait_objects(
    s3: S3Client, bucket: str, prefix: str, done: Callable[[list[str]], bool], timeout_s: float = 30.0
) -> list[str]:
    """Poll the keys under ``prefix`` until ``done(keys)``."""
    deadline = time.monotonic() + timeout_s
    while True:
        pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
        keys = sorted(obj["Key"] for page in pages for obj in page.get("Contents", []))
        if done(keys):
            return keys
        assert time.monotonic() < deadline, f"objects under {prefix} never complete: {keys}"
        time.sleep(0.2)


def read_parquet(s3: S3Client, bucket: str, keys: list[str]) -> pa.Table:
    tables = [pq.read_table(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())) for key in keys]
    return pa.concat_tables(tables, promote_options="default")


def parquet_rows(s3: S3Client, bucket: str, prefix: str, expected: int) -> list[dict[str, Any]]:
    """Wait until ``expected`` rows are under ``prefix`` in Parquet objects; the rows, sorted by event_id."""

    def enough(keys: list[str]) -> bool:
        data = [k for k in keys if k.endswith(".parquet")]
        return bool(data) and read_parquet(s3, bucket, data).num_rows >= expected

    keys = [k for k in wait_objects(s3, bucket, prefix, enough) if k.endswith(".parquet")]
    rows: list[dict[str, Any]] = read_parquet(s3, bucket, keys).to_pylist()
    return sorted(rows, key=lambda row: str(row["event_id"]))
