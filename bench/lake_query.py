"""Benchmark: an Athena-style GROUP BY over rows a delivery stream wrote, against DuckDB reading the same files
locally, in one run.

One command: ``.venv/bin/python bench/lake_query.py [--rows N]``. It uses the Kafka and S3 named by the ``KEMU_*``
settings when given, else starts its own embedded services in a temporary directory. In one run it:

1. produces N clickstream events into a fresh topic and delivers them with one delivery stream (a child process, as
   ``bench/sinks_throughput.py`` does) under Firehose's default ``yyyy/MM/dd/HH/`` layout;
2. starts the endpoint (``kemu kinesis serve``, its own process, a catalog topic of its own), and crawls the
   delivered prefix into a table through the Glue API;
3. runs the same GROUP BY ``--repeats`` times through the Athena API (StartQueryExecution, polling
   GetQueryExecution every 50 ms, every page of GetQueryResults), timed from the start call to the last page;
4. downloads the same objects to a local directory and runs the same GROUP BY with DuckDB on them, as many times;
5. checks both give the same rows, and prints one JSON document with the medians and their ratio (the overhead of
   S3, the catalog and the API over DuckDB on local files).

Not a test: nothing here asserts a speed. Results go to BENCHMARKS.md with the command, machine and date.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import boto3
import duckdb
import httpx
from botocore.config import Config

from bench.report import header
from bench.sinks_throughput import endpoints, produced_topic, run_sink
from emulator.services.ports import free_port
from sinks import BufferingHints, DeliveryStreamConfig, S3Connection, make_s3_client

ROOT = Path(__file__).resolve().parents[1]
KEMU = Path(sys.executable).parent / "kemu"
QUERY = (
    "SELECT event_type, country, count(*) AS events, count(DISTINCT user_id) AS users "
    "FROM {table} GROUP BY event_type, country ORDER BY event_type, country"
)


def client(service: str, url: str) -> Any:
    return boto3.client(
        service, endpoint_url=url, region_name="us-east-1", aws_access_key_id="bench",
        aws_secret_access_key="bench", config=Config(retries={"max_attempts": 1}),  # noqa: S106 - a dummy key
    )  # fmt: skip


def serve_endpoint(
    bootstrap: str, s3: S3Connection, bucket: str, catalog_topic: str
) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {
        **os.environ,
        "KEMU_KAFKA__BOOTSTRAP_SERVERS": bootstrap,
        "KEMU_S3__ENDPOINT_URL": s3.endpoint_url or "",
        "KEMU_S3__ACCESS_KEY_ID": s3.access_key_id or "",
        "KEMU_S3__SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value() if s3.secret_access_key else "",
        "KEMU_S3__BUCKET": bucket,
        "KEMU_KINESIS__PORT": str(port),
        "KEMU_KINESIS__GLUE__CATALOG_TOPIC": catalog_topic,
        "KEMU_KINESIS__FIREHOSE__METADATA_TOPIC": f"{catalog_topic}-firehose",
    }
    proc = subprocess.Popen(
        [str(KEMU), "kinesis", "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{url}/_kemu/health", timeout=2).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        if proc.poll() is not None:
            raise RuntimeError(f"kemu kinesis serve exited with code {proc.returncode}")
        time.sleep(0.5)
    proc.terminate()
    raise RuntimeError("the endpoint did not answer within 120 s")


def crawl(glue: Any, database: str, path: str) -> dict[str, Any]:
    glue.create_database(DatabaseInput={"Name": database})
    glue.create_crawler(Name="bench", Role="r", DatabaseName=database, Targets={"S3Targets": [{"Path": path}]})
    glue.start_crawler(Name="bench")
    started = time.perf_counter()
    while True:
        crawler: dict[str, Any] = glue.get_crawler(Name="bench")["Crawler"]
        if crawler["State"] == "READY" and "LastCrawl" in crawler:
            return {"seconds": round(time.perf_counter() - started, 3), "status": crawler["LastCrawl"]["Status"]}
        time.sleep(0.2)


def athena_query(athena: Any, sql: str, database: str) -> tuple[float, list[list[str | None]], dict[str, Any]]:
    started = time.perf_counter()
    execution_id = athena.start_query_execution(QueryString=sql, QueryExecutionContext={"Database": database})[
        "QueryExecutionId"
    ]
    while True:
        execution = athena.get_query_execution(QueryExecutionId=execution_id)["QueryExecution"]
        if execution["Status"]["State"] not in ("QUEUED", "RUNNING"):
            break
        time.sleep(0.05)
    if execution["Status"]["State"] != "SUCCEEDED":
        raise RuntimeError(f"the Athena query ended {execution['Status']}")
    rows: list[list[str | None]] = []
    for page in athena.get_paginator("get_query_results").paginate(QueryExecutionId=execution_id):
        rows += [[cell.get("VarCharValue") for cell in row["Data"]] for row in page["ResultSet"]["Rows"]]
    return time.perf_counter() - started, rows[1:], execution.get("Statistics", {})


def download(s3: S3Connection, bucket: str, prefix: str, into: Path) -> tuple[int, int]:
    s3c = make_s3_client(s3, attempts=3)
    objects = size = 0
    for page in s3c.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for obj in page.get("Contents", []):
            if not obj["Key"].endswith(".parquet"):
                continue
            target = into / obj["Key"][len(prefix) :]
            target.parent.mkdir(parents=True, exist_ok=True)
            s3c.download_file(bucket, obj["Key"], str(target))
            objects += 1
            size += obj["Size"]
    return objects, size


def local_query(directory: Path, sql: str) -> tuple[float, list[list[str | None]]]:
    started = time.perf_counter()
    connection = duckdb.connect(":memory:")
    try:
        files = f"read_parquet('{directory}/**/*.parquet', union_by_name = true)"
        result = connection.sql(sql.format(table=files)).fetchall()
    finally:
        connection.close()
    rows = [[None if v is None else str(v) for v in row] for row in result]
    return time.perf_counter() - started, rows


async def deliver(bootstrap: str, s3: S3Connection, bucket: str, rows: int, partitions: int) -> dict[str, Any]:
    async with produced_topic(bootstrap, "bench-lake", rows, partitions) as (topic, produce_s):
        prefix = f"bench-lake/{topic}/"
        config = DeliveryStreamConfig(
            name="bench-lake",
            source_topic=topic,
            bucket=bucket,
            prefix=prefix,
            buffering=BufferingHints(size_mib=64, interval_s=300),
            consumer_group=f"bench-lake-{uuid.uuid4().hex[:8]}",
        )
        sink, _ = await run_sink(config, bootstrap, s3)
    return {"prefix": prefix, "produce_s": round(produce_s, 3), "deliver_s": round(sink["wall_s"], 3), **sink}


def main(rows: int, partitions: int, repeats: int) -> dict[str, Any]:
    with endpoints() as (bootstrap, s3, bucket):
        delivered = asyncio.run(deliver(bootstrap, s3, bucket, rows, partitions))
        prefix = delivered["prefix"]
        catalog_topic = f"bench-lake-catalog-{uuid.uuid4().hex[:8]}"
        proc, url = serve_endpoint(bootstrap, s3, bucket, catalog_topic)
        local_dir = Path(tempfile.mkdtemp(prefix="kemu-bench-lake-"))
        try:
            glue, athena = client("glue", url), client("athena", url)
            crawled = crawl(glue, "bench", f"s3://{bucket}/{prefix}")
            table = prefix.rstrip("/").rsplit("/", 1)[-1].replace("-", "_")
            sql = QUERY.format(table=table)
            athena_runs, athena_rows, statistics_ = [], None, {}
            for _ in range(repeats):
                seconds, athena_rows, statistics_ = athena_query(athena, sql, "bench")
                athena_runs.append(seconds)
            objects, size = download(s3, bucket, prefix, local_dir)
            local_runs, local_rows = [], None
            for _ in range(repeats):
                seconds, local_rows = local_query(local_dir, QUERY)
                local_runs.append(seconds)
        finally:
            proc.terminate()
            proc.wait(30)
            shutil.rmtree(local_dir, ignore_errors=True)
    athena_median, local_median = statistics.median(athena_runs), statistics.median(local_runs)
    return {
        **header("lake_query"),
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
        "rows": rows,
        "query": QUERY.format(table="<table>"),
        "delivered": {
            "records": delivered["records"],
            "objects": objects,
            "parquet_mib": round(size / 2**20, 1),
            "produce_s": delivered["produce_s"],
            "deliver_s": delivered["deliver_s"],
        },
        "crawl": crawled,
        "athena_api": {
            "seconds": [round(s, 3) for s in athena_runs],
            "median_s": round(athena_median, 3),
            "engine_ms_last": statistics_.get("EngineExecutionTimeInMillis"),
            "scanned_mib_last": round(statistics_.get("DataScannedInBytes", 0) / 2**20, 1),
        },
        "duckdb_local": {"seconds": [round(s, 3) for s in local_runs], "median_s": round(local_median, 3)},
        "ratio_athena_to_local": round(athena_median / local_median, 2) if local_median else None,
        "same_rows": athena_rows == local_rows,
        "result_rows": len(local_rows or []),
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--rows", type=int, default=10_000_000)
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    print(json.dumps(main(args.rows, args.partitions, args.repeats), indent=2))
