"""Shared steps of the sink integration tests: produce events, run a delivery stream, read what landed."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any

import duckdb
import orjson
import pyarrow as pa
import pyarrow.fs as pa_fs
import pyarrow.parquet as pq
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError
from aiokafka.structs import OffsetAndMetadata, TopicPartition

from sinks import BufferingHints, DeliveryStream, DeliveryStreamConfig
from sinks.delivery import WORKER_MODULE
from tests.support.endpoints import Endpoints
from tests.support.s3 import s3_client

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def delivery_config(
    name: str,
    topic: str,
    bucket: str | None,
    prefix: str,
    group: str,
    *,
    data: str = "data/",
    errors: str = "errors/!{firehose:error-output-type}/",
    size_mib: int = 1,
    interval_s: int = 1,
) -> DeliveryStreamConfig:
    """A delivery stream ``name`` of ``topic`` into ``bucket`` (``None``: the application's): objects under ``prefix +
    data``, bad records under ``prefix + errors``, offsets committed in ``group``, an object written at
    ``size_mib`` MiB or every ``interval_s`` seconds."""
    return DeliveryStreamConfig(
        name=name,
        source_topic=topic,
        bucket=bucket,
        prefix=prefix + data,
        error_output_prefix=prefix + errors,
        buffering=BufferingHints(size_mib=size_mib, interval_s=interval_s),
        consumer_group=group,
    )


def event(i: int, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": f"e-{i:08d}",
        "event_type": "score",
        "event_time": "2026-11-27T08:00:00.123Z",
        "player_id": f"p-{i % 17}",
        "level": i % 10,
        "points": i,
        **extra,
    }


async def produce(bootstrap: str, topic: str, values: list[bytes], partitions: int, keys: bool = True) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=5, max_batch_size=256 * 1024)
    try:
        await producer.start()
        futures = [
            await producer.send(topic, value, partition=i % partitions, key=str(i).encode() if keys else None)
            for i, value in enumerate(values)
        ]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


def encode(events: list[dict[str, Any]]) -> list[bytes]:
    return [orjson.dumps(e) for e in events]


async def deliver(
    config: DeliveryStreamConfig, endpoints: Endpoints, timeout_s: float = 60, worker_module: str = WORKER_MODULE
) -> DeliveryStream:
    """Run the stream until it has delivered everything in its topic (its write worker running ``worker_module``)."""
    stream = DeliveryStream(
        config,
        endpoints.kafka_bootstrap,
        endpoints.s3_connection(),
        stop_when_caught_up=True,
        worker_module=worker_module,
    )
    await asyncio.wait_for(stream.run(asyncio.Event()), timeout_s)
    return stream


def keys_under(s3: S3Client, bucket: str, prefix: str) -> list[str]:
    keys: list[str] = []
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        keys.extend(obj["Key"] for obj in page.get("Contents", []))
    return sorted(keys)


def landed(endpoints: Endpoints, prefix: str) -> duckdb.DuckDBPyConnection:
    """DuckDB over every Parquet object under ``prefix`` in MinIO, as the view ``landed`` (columns by name).

    Users query with DuckDB's httpfs (docs/sinks.md). This machine cannot download DuckDB extensions and PyPI has
    no httpfs build for the DuckDB we pin, so tests hand DuckDB the objects through pyarrow's own S3 filesystem.
    """
    fs = pa_fs.S3FileSystem(
        access_key=endpoints.s3_access_key,
        secret_key=endpoints.s3_secret_key,
        endpoint_override=endpoints.s3_endpoint,
        region=endpoints.s3_region,
    )
    client = s3_client(endpoints.s3_endpoint, endpoints.s3_access_key, endpoints.s3_secret_key, endpoints.s3_region)
    paths = [f"{endpoints.bucket}/{k}" for k in keys_under(client, endpoints.bucket, prefix) if k.endswith(".parquet")]
    tables = [pq.read_table(path, filesystem=fs).replace_schema_metadata({}) for path in paths]
    con = duckdb.connect()
    table = (
        pa.concat_tables(tables, promote_options="default")
        if tables
        else pa.table({"event_id": pa.array([], pa.string())})
    )
    con.register("landed", table)
    return con


async def committed(admin: AIOKafkaAdminClient, group: str) -> dict[TopicPartition, OffsetAndMetadata]:
    """The group's commits; empty while a fresh broker has no coordinator for it yet."""
    try:
        return await admin.list_consumer_group_offsets(group)
    except KafkaError as exc:
        if exc.retriable:
            return {}
        raise


async def send_events(producer: AIOKafkaProducer, topic: str, start: int, stop: int, partitions: int = 2) -> None:
    """Events ``start`` to ``stop`` (excluded), event ``i`` on partition ``i % partitions``, acknowledged."""
    futures = [await producer.send(topic, orjson.dumps(event(i)), partition=i % partitions) for i in range(start, stop)]
    await asyncio.gather(*futures)
