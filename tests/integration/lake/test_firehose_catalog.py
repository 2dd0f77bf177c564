"""Firehose using the Glue catalog on the same endpoint: ``SchemaConfiguration`` decides the Parquet columns (a
record that does not fit goes to the error prefix with its reason), and a delivery stream tagged
``kemu:catalog-table`` registers its table and partitions as it writes, queryable through Athena with no crawler."""

from __future__ import annotations

import contextlib
import json
import time
import uuid
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.firehose.conftest import read_parquet, s3_config, wait_active, wait_objects
from tests.integration.lake.conftest import client, rows_of, run_query

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def firehose(lake_url: str) -> Any:
    return client("firehose", lake_url)


@pytest.fixture
def streams(firehose: Any) -> Iterator[list[str]]:
    created: list[str] = []
    yield created
    for name in created:
        with contextlib.suppress(Exception):
            firehose.delete_delivery_stream(DeliveryStreamName=name)


def conversion(database: str, table: str) -> dict[str, Any]:
    return {
        "Enabled": True,
        "SchemaConfiguration": {"DatabaseName": database, "TableName": table, "RoleARN": "arn:aws:iam::0:role/r"},
        "InputFormatConfiguration": {"Deserializer": {"OpenXJsonSerDe": {}}},
        "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {"Compression": "SNAPPY"}}},
    }


def wait_table(glue: Any, database: str, name: str, timeout_s: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        with contextlib.suppress(glue.exceptions.EntityNotFoundException):
            table: dict[str, Any] = glue.get_table(DatabaseName=database, Name=name)["Table"]
            return table
        assert time.monotonic() < deadline, f"table {database}.{name} never registered"
        time.sleep(0.2)


def test_schema_configuration_decides_the_columns_and_the_tag_registers_the_table(
    glue: Any, athena: Any, firehose: Any, streams: list[str], database: str, s3: S3Client, bucket: str,
    bucket_prefix: str, unique_name: Callable[[str], str],
) -> None:  # fmt: skip
    glue.create_table(
        DatabaseName=database,
        TableInput={
            "Name": "schema_events",
            "StorageDescriptor": {
                "Columns": [
                    {"Name": "event_id", "Type": "string"},
                    {"Name": "score", "Type": "int"},
                    {"Name": "ratio", "Type": "double"},
                ]
            },
        },
    )
    name = unique_name("fh-conv")[:20] + uuid.uuid4().hex[:8]
    streams.append(name)
    destination = s3_config(
        bucket, bucket_prefix, DataFormatConversionConfiguration=conversion(database, "schema_events")
    )
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=destination,
        Tags=[{"Key": "kemu:catalog-table", "Value": f"{database}.delivered"}],
    )
    described = wait_active(firehose, name)
    schema = described["Destinations"][0]["ExtendedS3DestinationDescription"]["DataFormatConversionConfiguration"]
    assert schema["SchemaConfiguration"]["TableName"] == "schema_events"
    good = [{"event_id": f"e{i}", "score": i, "ratio": i / 2, "extra": "dropped"} for i in range(50)]
    bad = {"event_id": "bad", "score": "not a number", "ratio": 1.0}
    records = [json.dumps(r).encode() + b"\n" for r in [*good[:25], bad, *good[25:]]]
    firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": r} for r in records])

    def has_data(keys: list[str]) -> bool:
        data = [k for k in keys if k.endswith(".parquet")]
        return bool(data) and read_parquet(s3, bucket, data).num_rows >= len(good)

    data_keys = [k for k in wait_objects(s3, bucket, f"{bucket_prefix}data/", has_data) if k.endswith(".parquet")]
    delivered = read_parquet(s3, bucket, data_keys)
    assert delivered.column_names == ["event_id", "score", "ratio"]  # the table's columns, "extra" dropped
    assert sorted(delivered.column("event_id").to_pylist()) == sorted(r["event_id"] for r in good)

    error_keys = wait_objects(s3, bucket, f"{bucket_prefix}errors/", bool)
    [line] = [
        json.loads(raw)
        for key in error_keys
        for raw in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    ]
    assert json.loads(line["rawDataUtf8"]) == bad
    assert "score" in line["errorMessage"]
    assert all(k.startswith(f"{bucket_prefix}errors/format-conversion-failed/") for k in error_keys)

    table = wait_table(glue, database, "delivered")
    assert table["StorageDescriptor"]["Location"] == f"s3://{bucket}/{bucket_prefix}data/"
    assert [k["Name"] for k in table["PartitionKeys"]] == [f"partition_{i}" for i in range(4)]
    assert [c["Name"] for c in table["StorageDescriptor"]["Columns"]] == ["event_id", "score", "ratio"]
    partitions = glue.get_partitions(DatabaseName=database, TableName="delivered")["Partitions"]
    assert partitions
    assert all(len(p["Values"]) == 4 for p in partitions)
    execution = run_query(athena, "SELECT count(*), count(DISTINCT event_id), sum(score) FROM delivered", database)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(athena, execution["QueryExecutionId"]) == [[str(len(good)), str(len(good)), str(sum(range(50)))]]


def test_a_later_write_adds_its_partition_and_new_columns_to_the_registered_table(
    glue: Any, athena: Any, firehose: Any, streams: list[str], database: str, s3: S3Client, bucket: str,
    bucket_prefix: str, unique_name: Callable[[str], str],
) -> None:  # fmt: skip
    name = unique_name("fh-reg")[:20] + uuid.uuid4().hex[:8]
    streams.append(name)
    prefix = f"{bucket_prefix}data/kind=!{{partitionKeyFromQuery:kind}}/dt=!{{timestamp:yyyy-MM-dd}}/"
    destination = s3_config(bucket, bucket_prefix, Prefix=prefix)
    firehose.create_delivery_stream(
        DeliveryStreamName=name,
        DeliveryStreamType="DirectPut",
        ExtendedS3DestinationConfiguration=destination,
        Tags=[{"Key": "kemu:catalog-table", "Value": f"{database}.kinds"}],
    )
    wait_active(firehose, name)
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b'{"kind": "a", "n": 1}\n'})
    table = wait_table(glue, database, "kinds")
    assert [k["Name"] for k in table["PartitionKeys"]] == ["kind", "dt"]
    firehose.put_record(DeliveryStreamName=name, Record={"Data": b'{"kind": "b", "n": 2, "note": "new"}\n'})
    deadline = time.monotonic() + 60
    while len(glue.get_partitions(DatabaseName=database, TableName="kinds")["Partitions"]) < 2:
        assert time.monotonic() < deadline, "the second partition was never registered"
        time.sleep(0.2)
    columns = glue.get_table(DatabaseName=database, Name="kinds")["Table"]["StorageDescriptor"]["Columns"]
    assert [c["Name"] for c in columns] == ["kind", "n", "note"] or [c["Name"] for c in columns] == ["n", "note"]
    execution = run_query(athena, "SELECT kind, n, note FROM kinds ORDER BY n", database)
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    assert rows_of(athena, execution["QueryExecutionId"]) == [["a", "1", None], ["b", "2", "new"]]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"schema_table": "missing_table"}, "not in the Glue catalog"),
        ({"tag": "no-dot"}, r"DATABASE\.TABLE"),
    ],
)
def test_a_catalog_the_stream_cannot_use_is_refused_at_creation(
    firehose: Any, streams: list[str], database: str, bucket: str, bucket_prefix: str,
    unique_name: Callable[[str], str], extra: dict[str, str], message: str,
) -> None:  # fmt: skip
    destination = s3_config(bucket, bucket_prefix)
    if "schema_table" in extra:
        destination["DataFormatConversionConfiguration"] = conversion(database, extra["schema_table"])
    tags = [{"Key": "kemu:catalog-table", "Value": extra["tag"]}] if "tag" in extra else []
    name = unique_name("fh-refused")[:20] + uuid.uuid4().hex[:8]
    streams.append(name)
    with pytest.raises(firehose.exceptions.InvalidArgumentException, match=message):
        firehose.create_delivery_stream(
            DeliveryStreamName=name, ExtendedS3DestinationConfiguration=destination, **({"Tags": tags} if tags else {})
        )
