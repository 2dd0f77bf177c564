"""The Glue Data Catalog through boto3: databases, tables, partitions (expressions, paging, batches), errors as
Glue words them, and the catalog read back from its topic by a new endpoint."""

from __future__ import annotations

from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.lake.conftest import client, lake_settings
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import serve_kinesis

pytestmark = pytest.mark.integration


def table_input(name: str, keys: list[tuple[str, str]] | None = None) -> dict[str, Any]:
    return {
        "Name": name,
        "StorageDescriptor": {
            "Columns": [{"Name": "event_id", "Type": "string"}, {"Name": "score", "Type": "bigint"}],
            "Location": f"s3://kemu-test/lake/{name}/",
        },
        "PartitionKeys": [{"Name": k, "Type": t} for k, t in (keys or [])],
        "TableType": "EXTERNAL_TABLE",
    }


def error_code(exc: pytest.ExceptionInfo[ClientError]) -> str:
    return str(exc.value.response["Error"]["Code"])


def test_databases_and_tables(glue: Any, database: str) -> None:
    assert glue.get_database(Name=database)["Database"]["Name"] == database
    with pytest.raises(ClientError) as exists:
        glue.create_database(DatabaseInput={"Name": database})
    assert error_code(exists) == "AlreadyExistsException"
    for i in range(5):
        glue.create_table(DatabaseName=database, TableInput=table_input(f"Events_{i}"))
    names = [
        t["Name"]
        for page in glue.get_paginator("get_tables").paginate(DatabaseName=database, PaginationConfig={"PageSize": 2})
        for t in page["TableList"]
    ]
    assert names == [f"events_{i}" for i in range(5)]  # lower-cased, as Glue does
    assert [t["Name"] for t in glue.get_tables(DatabaseName=database, Expression="*_3|events_4")["TableList"]] == [
        "events_3",
        "events_4",
    ]
    table = glue.get_table(DatabaseName=database, Name="events_0")["Table"]
    assert table["StorageDescriptor"]["Columns"][1] == {"Name": "score", "Type": "bigint"}
    updated = table_input("events_0")
    updated["Parameters"] = {"owner": "lake-test"}
    glue.update_table(DatabaseName=database, TableInput=updated)
    assert glue.get_table(DatabaseName=database, Name="events_0")["Table"]["Parameters"] == {"owner": "lake-test"}
    result = glue.batch_delete_table(DatabaseName=database, TablesToDelete=["events_1", "missing"])
    assert [e["TableName"] for e in result["Errors"]] == ["missing"]
    with pytest.raises(ClientError) as missing:
        glue.get_table(DatabaseName=database, Name="events_1")
    assert error_code(missing) == "EntityNotFoundException"


def test_bad_names_and_locations_are_refused(glue: Any, database: str) -> None:
    for bad in ("a/b", "x'; DROP TABLE t; --", "a" * 300):
        with pytest.raises(ClientError) as refused:
            glue.create_table(DatabaseName=database, TableInput={**table_input("ok"), "Name": bad})
        assert error_code(refused) in ("InvalidInputException", "ValidationException"), bad
    with pytest.raises(ClientError) as local:
        glue.create_table(
            DatabaseName=database,
            TableInput={**table_input("local"), "StorageDescriptor": {"Location": "file:///etc/"}},
        )
    assert "s3://" in local.value.response["Error"]["Message"]


def test_partitions_with_expressions_paging_and_batches(glue: Any, database: str) -> None:
    glue.create_table(DatabaseName=database, TableInput=table_input("hits", [("dt", "string"), ("hour", "int")]))
    inputs = [
        {"Values": [f"2026-01-0{d}", str(h)], "StorageDescriptor": {"Location": f"s3://kemu-test/h/{d}/{h}/"}}
        for d in (1, 2, 3)
        for h in (0, 9, 10)
    ]
    assert (
        glue.batch_create_partition(DatabaseName=database, TableName="hits", PartitionInputList=inputs)["Errors"] == []
    )
    again = glue.batch_create_partition(DatabaseName=database, TableName="hits", PartitionInputList=inputs[:1])
    assert again["Errors"][0]["ErrorDetail"]["ErrorCode"] == "AlreadyExistsException"

    def values(expression: str) -> list[list[str]]:
        pages = glue.get_paginator("get_partitions").paginate(
            DatabaseName=database, TableName="hits", Expression=expression, PaginationConfig={"PageSize": 2}
        )
        return [p["Values"] for page in pages for p in page["Partitions"]]

    assert len(values("")) == 9
    assert values("dt = '2026-01-02' AND hour > 5") == [["2026-01-02", "10"], ["2026-01-02", "9"]] or values(
        "dt = '2026-01-02' AND hour > 5"
    ) == [["2026-01-02", "9"], ["2026-01-02", "10"]]
    # hour is an int: 10 > 9 numerically, though '10' < '9' as text
    assert sorted(v[1] for v in values("hour >= 9 AND dt BETWEEN '2026-01-01' AND '2026-01-01'")) == ["10", "9"]
    assert [v[0] for v in values("dt IN ('2026-01-03') AND NOT (hour <> 0)")] == ["2026-01-03"]
    assert len(values("dt LIKE '2026-01-0%' OR hour = 0")) == 9
    with pytest.raises(ClientError) as bad:
        values("nope = 1")
    assert error_code(bad) == "InvalidInputException"
    got = glue.batch_get_partition(
        DatabaseName=database,
        TableName="hits",
        PartitionsToGet=[{"Values": ["2026-01-01", "0"]}, {"Values": ["2027-01-01", "0"]}],
    )
    assert [p["Values"] for p in got["Partitions"]] == [["2026-01-01", "0"]]
    assert got["UnprocessedKeys"] == [{"Values": ["2027-01-01", "0"]}]
    glue.delete_partition(DatabaseName=database, TableName="hits", PartitionValues=["2026-01-01", "0"])
    assert len(values("")) == 8
    with pytest.raises(ClientError) as wrong_arity:
        glue.get_partition(DatabaseName=database, TableName="hits", PartitionValues=["2026-01-01"])
    assert error_code(wrong_arity) == "InvalidInputException"


def test_catalog_survives_a_restart(
    kafka_bootstrap: str, endpoints: Endpoints, unique_name: Any, catalog_topic: str
) -> None:
    topic = f"{catalog_topic}-restart"
    settings = lake_settings(topic, endpoints.bucket)
    with serve_kinesis(settings, kafka_bootstrap, endpoints.s3_connection()) as url:
        glue = client("glue", url)
        glue.create_database(DatabaseInput={"Name": "kept"})
        glue.create_table(DatabaseName="kept", TableInput=table_input("t", [("dt", "string")]))
        glue.create_partition(DatabaseName="kept", TableName="t", PartitionInput={"Values": ["2026-01-01"]})
        glue.create_table(DatabaseName="kept", TableInput=table_input("gone"))
        glue.delete_table(DatabaseName="kept", Name="gone")
    with serve_kinesis(settings, kafka_bootstrap, endpoints.s3_connection()) as url:
        glue = client("glue", url)
        assert [t["Name"] for t in glue.get_tables(DatabaseName="kept")["TableList"]] == ["t"]
        partitions = glue.get_partitions(DatabaseName="kept", TableName="t")["Partitions"]
        assert [p["Values"] for p in partitions] == [["2026-01-01"]]
