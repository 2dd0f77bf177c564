"""The live page's Lake panel against the real broker and MinIO: the catalog's tables with their objects, rows and
freshness, and the SQL box: bounded rows, read-only statements only, no local files or other hosts, bad SQL a 400
with the reason."""

from __future__ import annotations

import asyncio
import os
import uuid
from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import httpx
import pyarrow as pa
import pytest
from pydantic import SecretStr

from emulator.api import ApiConfig, create_app
from emulator.api.lake import LakeConfig
from emulator.endpoints import S3Target
from tests.integration.lake.conftest import put_parquet, wait_crawler
from tests.support.api_server import serving
from tests.support.endpoints import Endpoints

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

pytestmark = pytest.mark.integration

MAX_ROWS = 50


@pytest.fixture
async def panel_url(endpoints: Endpoints, catalog_topic: str, lake_url: str) -> AsyncIterator[str]:
    """An API on a free port whose Lake panel follows the same catalog topic as the module's endpoint."""
    target = S3Target(
        endpoints.s3_endpoint,
        endpoints.s3_access_key,
        SecretStr(endpoints.s3_secret_key),
        endpoints.bucket,
        endpoints.s3_region,
    )
    config = ApiConfig(
        kafka_bootstrap=endpoints.kafka_bootstrap,
        s3=target,
        lake=LakeConfig(catalog_topic, max_rows=MAX_ROWS, inventory_s=0),
    )
    async with serving(create_app(config)) as url:
        yield url


async def eventually_table(client: httpx.AsyncClient, name: str, timeout_s: float = 30) -> dict[str, Any]:
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        tables = (await client.get("/lake/tables")).json()["tables"]
        found = [t for t in tables if t["name"] == name]
        if found:
            table: dict[str, Any] = found[0]
            return table
        assert asyncio.get_running_loop().time() < deadline, f"{name} never shown: {tables}"
        await asyncio.sleep(0.2)


async def test_tables_show_objects_rows_and_freshness_and_the_sql_box_is_bounded_and_read_only(
    panel_url: str, glue: Any, database: str, s3: S3Client, bucket: str, bucket_prefix: str
) -> None:
    base = f"{bucket_prefix}panel/"
    for day, rows in (("2026-01-01", 120), ("2026-01-02", 30)):
        table = pa.table({"event_id": [f"{day}-{i}" for i in range(rows)], "n": list(range(rows))})
        put_parquet(s3, bucket, f"{base}dt={day}/part-0.parquet", table)
    crawler = f"{database}-panel"
    glue.create_crawler(
        Name=crawler, Role="r", DatabaseName=database, Targets={"S3Targets": [{"Path": f"s3://{bucket}/{base}"}]}
    )
    await asyncio.to_thread(wait_crawler, glue, crawler)
    async with httpx.AsyncClient(base_url=panel_url, timeout=60) as client:
        shown = await eventually_table(client, "panel")
        assert shown["database"] == database
        assert (shown["objects"], shown["rows"], shown["partition_keys"]) == (2, 150, ["dt"])
        assert shown["newest_object_ms"] is not None

        answer = await client.post(
            "/lake/query",
            json={"sql": "SELECT dt, count(*) AS n FROM panel GROUP BY dt ORDER BY dt", "database": database},
        )
        assert answer.status_code == 200, answer.text
        body = answer.json()
        assert body["columns"] == ["dt", "n"]
        assert body["rows"] == [["2026-01-01", "120"], ["2026-01-02", "30"]]
        assert body["truncated"] is False

        many = (await client.post("/lake/query", json={"sql": "SELECT * FROM panel", "database": database})).json()
        assert len(many["rows"]) == MAX_ROWS
        assert many["truncated"] is True

        results_before = s3.list_objects_v2(Bucket=bucket, Prefix="athena-results/").get("KeyCount", 0)
        local = f"/tmp/kemu-panel-{uuid.uuid4().hex}.csv"  # noqa: S108 - a path the statement must not be able to write
        refused = {
            f"CREATE TABLE {database}.copy WITH (format = 'PARQUET') AS SELECT * FROM panel": "read-only",
            f"COPY (SELECT 1) TO '{local}'": "COPY",
            "SELECT * FROM read_csv('/etc/passwd')": "",
            "SELECT * FROM read_parquet('http://127.0.0.1:9/x.parquet')": "",
            "ATTACH '/tmp/x.duckdb' AS x": "ATTACH",
            "INSTALL httpfs": "read-only",
            "SELECT * FROM no_such_table": "",
            "SELEKT 1": "",
        }
        for sql, reason in refused.items():
            response = await client.post("/lake/query", json={"sql": sql, "database": database})
            assert response.status_code == 400, (sql, response.text)
            assert reason.lower() in response.json()["detail"].lower(), (sql, response.text)
        assert not await asyncio.to_thread(os.path.exists, local)
        assert glue.get_tables(DatabaseName=database, Expression="copy")["TableList"] == []
        assert s3.list_objects_v2(Bucket=bucket, Prefix="athena-results/").get("KeyCount", 0) == results_before

        bad_database = await client.post("/lake/query", json={"sql": "SELECT 1", "database": "x'; DROP"})
        assert bad_database.status_code == 422
        odd = [
            "'",
            ";",
            ";;",
            "SELECT",
            "\x00",
            "SELECT 1; SELECT 2",
            "SELECT * FROM panel WHERE dt = ",
            "-- x",
            "(" * 5000,
        ]
        for sql in odd:
            response = await client.post("/lake/query", json={"sql": sql, "database": database})
            assert response.status_code == 400, (sql[:40], response.text)
            assert response.json()["detail"], sql[:40]
