"""Crawlers over real Parquet in MinIO and Athena queries over what they made, through boto3: schema union and
widening, Firehose's yyyy/MM/dd/HH layout as partition_0..3, re-crawls that add partitions, partition pruning,
paging, result files, cancellation, and a query box that cannot reach local files or other hosts."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import pyarrow as pa
import pytest

from tests.integration.lake.conftest import put_parquet, rows_of, run_query, wait_crawler

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration


def events(start: int, count: int, score_type: pa.DataType | None = None, extra: bool = False) -> pa.Table:
    columns: dict[str, Any] = {
        "event_id": [f"e{i}" for i in range(start, start + count)],
        "score": pa.array(list(range(start, start + count)), type=score_type or pa.int32()),
    }
    if extra:
        columns["country"] = ["NO"] * count
    return pa.table(columns)


def test_crawl_firehose_layout_recrawl_and_query(
    glue: Any, athena: Any, s3: S3Client, bucket: str, bucket_prefix: str, database: str
) -> None:
    root = f"{bucket_prefix}firehose-out/"
    sizes = {}
    for hour in ("00", "01"):
        sizes[hour] = put_parquet(s3, bucket, f"{root}2026/01/02/{hour}/a.parquet", events(int(hour) * 100, 50))
    s3.put_object(Bucket=bucket, Key=f"{root}_kemu/state.json", Body=b"{}")  # hidden: skipped
    glue.create_crawler(
        Name=f"{database}-c",
        Role="any",
        DatabaseName=database,
        Targets={"S3Targets": [{"Path": f"s3://{bucket}/{root}"}]},
    )
    crawler = wait_crawler(glue, f"{database}-c")
    assert crawler["LastCrawl"]["Status"] == "SUCCEEDED", crawler["LastCrawl"]
    table = glue.get_table(DatabaseName=database, Name="firehose_out")["Table"]
    assert [k["Name"] for k in table["PartitionKeys"]] == ["partition_0", "partition_1", "partition_2", "partition_3"]
    assert table["StorageDescriptor"]["Columns"] == [
        {"Name": "event_id", "Type": "string"},
        {"Name": "score", "Type": "int"},
    ]
    assert table["Parameters"]["recordCount"] == "100"
    # A new hour with a wider type and a new column: one partition added, score widened, country added.
    put_parquet(s3, bucket, f"{root}2026/01/02/02/a.parquet", events(200, 50, pa.int64(), extra=True))
    wait_crawler(glue, f"{database}-c")
    metrics = glue.get_crawler_metrics(CrawlerNameList=[f"{database}-c"])["CrawlerMetricsList"][0]
    assert (metrics["TablesCreated"], metrics["TablesUpdated"]) == (1, 1)
    message = glue.get_crawler(Name=f"{database}-c")["Crawler"]["LastCrawl"]["MessagePrefix"]
    assert "1 partition(s) added, 1 column(s) added, 1 widened" in message
    columns = glue.get_table(DatabaseName=database, Name="firehose_out")["Table"]["StorageDescriptor"]["Columns"]
    assert {c["Name"]: c["Type"] for c in columns} == {"event_id": "string", "score": "bigint", "country": "string"}
    partitions = glue.get_partitions(DatabaseName=database, TableName="firehose_out")["Partitions"]
    assert sorted(p["Values"][3] for p in partitions) == ["00", "01", "02"]

    everything = run_query(
        athena, "SELECT count(*), count(DISTINCT event_id), count(country), max(score) FROM firehose_out", database
    )
    assert everything["Status"]["State"] == "SUCCEEDED", everything["Status"]
    assert rows_of(athena, everything["QueryExecutionId"]) == [["150", "150", "50", "249"]]
    # Partition pruning: a WHERE on partition keys reads only the partitions it names.
    one_hour = run_query(athena, "SELECT count(*) FROM firehose_out WHERE partition_3 = '01'", database)
    assert rows_of(athena, one_hour["QueryExecutionId"]) == [["50"]]
    assert one_hour["Statistics"]["DataScannedInBytes"] == sizes["01"]
    assert everything["Statistics"]["DataScannedInBytes"] > sizes["00"] + sizes["01"]


def test_results_paging_types_and_files(athena: Any, s3: S3Client, bucket: str, database: str) -> None:
    execution = run_query(
        athena,
        "SELECT i, i * 1.5 AS half, 'x' || i AS label, i % 2 = 0 AS even, NULL AS nothing, "
        "TIMESTAMP '2026-01-02 03:04:05.678' AS at, DATE '2026-01-02' AS day FROM range(2500) t(i) ORDER BY i",
        database,
    )
    assert execution["Status"]["State"] == "SUCCEEDED", execution["Status"]
    first = athena.get_query_results(QueryExecutionId=execution["QueryExecutionId"], MaxResults=10)
    info = first["ResultSet"]["ResultSetMetadata"]["ColumnInfo"]
    assert [(c["Name"], c["Type"]) for c in info] == [
        ("i", "bigint"), ("half", "decimal"), ("label", "varchar"), ("even", "boolean"), ("nothing", "varchar"),
        ("at", "timestamp"), ("day", "date"),
    ]  # fmt: skip
    assert first["ResultSet"]["Rows"][0]["Data"][0]["VarCharValue"] == "i"  # the header row
    rows = rows_of(athena, execution["QueryExecutionId"])
    assert len(rows) == 2500
    assert rows[3] == ["3", "4.5", "x3", "false", None, "2026-01-02 03:04:05.678", "2026-01-02"]
    location = execution["ResultConfiguration"]["OutputLocation"]
    assert location.startswith(f"s3://{bucket}/athena-results/")
    assert location.endswith(".csv")
    key = location.split("/", 3)[3]
    text = s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode()
    assert text.splitlines()[0] == '"i","half","label","even","nothing","at","day"'
    assert text.splitlines()[4] == '"3","4.5","x3","false",,"2026-01-02 03:04:05.678","2026-01-02"'
    s3.head_object(Bucket=bucket, Key=key + ".metadata")
    listed = athena.list_query_executions(MaxResults=50)["QueryExecutionIds"]
    assert execution["QueryExecutionId"] in listed


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "COPY (SELECT 1) TO '/tmp/kemu-lake-escape.csv'",
        "ATTACH '/tmp/kemu-lake-escape.db' AS x",
        "SELECT * FROM read_parquet('http://127.0.0.1:1/x.parquet')",
        "INSTALL httpfs",
        "SET enable_external_access = true",
        "SELECT 1; SELECT 2",
        "CREATE TABLE local_t AS SELECT 1",
        "SELECT * FROM glob('/etc/*')",
    ],
)
def test_queries_cannot_escape_the_lake(athena: Any, database: str, sql: str) -> None:
    execution = run_query(athena, sql, database)
    assert execution["Status"]["State"] == "FAILED", sql
    assert execution["Status"]["StateChangeReason"]


def test_stop_and_unknown_tables(athena: Any, database: str) -> None:
    execution_id = athena.start_query_execution(
        QueryString="SELECT count(*) FROM range(100000000000) a", QueryExecutionContext={"Database": database}
    )["QueryExecutionId"]
    time.sleep(0.5)
    athena.stop_query_execution(QueryExecutionId=execution_id)
    deadline = time.monotonic() + 120  # a liveness bound for a loaded machine, not a speed
    while (state := athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]["Status"]["State"]) in (
        "QUEUED",
        "RUNNING",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert state == "CANCELLED"
    missing = run_query(athena, "SELECT * FROM no_such_table", database)
    assert missing["Status"]["State"] == "FAILED"
    assert "no_such_table" in missing["Status"]["StateChangeReason"]
