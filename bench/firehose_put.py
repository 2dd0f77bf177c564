"""Firehose PutRecordBatch throughput and delivery time, against kemu's own Kinesis PutRecords on the same server.

    .venv/bin/python bench/firehose_put.py [--records 50000] [--concurrency 4] [--record-bytes 200]

One kemu endpoint (Kinesis + Firehose, in this process on its own thread and event loop) against the configured
Kafka and S3 (``KEMU_KAFKA__BOOTSTRAP_SERVERS`` / ``KEMU_S3__*``, else the running ``kemu services``). The same
JSON events, 500 per call, sent by ``--concurrency`` boto3 threads: first as Kinesis PutRecords to a one-shard
stream, then as Firehose PutRecordBatch to a DirectPut delivery stream (both acknowledged by Kafka with acks=all
before the answer), so the ratio compares the two write paths of one server under the same load generator. Then
the time from the last acknowledged PutRecordBatch until every record is in Parquet under the prefix
(buffering hints 5 MiB / 1 s), and whether each landed exactly once. Prints one JSON document.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import sys
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import boto3
import orjson
import pyarrow.parquet as pq
from botocore.config import Config

from emulator.edge.server import EdgeServer
from emulator.endpoints import kafka_bootstrap, require_s3
from emulator.firehose import FirehoseSettings
from emulator.kinesis import KinesisSettings
from emulator.settings import Settings

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.report import header

BATCH = 500


def client(service: str, url: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=url,
        region_name="us-east-1",
        aws_access_key_id="AKIDBENCH",
        aws_secret_access_key="bench-secret",  # noqa: S106 - the endpoint does not check signatures here
        config=Config(retries={"max_attempts": 3, "mode": "standard"}, max_pool_connections=32),
    )


def events(count: int, record_bytes: int) -> list[bytes]:
    pad = "x" * max(0, record_bytes - 120)
    return [
        orjson.dumps(
            {
                "event_id": f"e-{i:09d}",
                "event_type": "score",
                "event_time": "2026-11-27T08:00:00.123Z",
                "player_id": f"p-{i % 97}",
                "points": i,
                "pad": pad,
            }
        )
        for i in range(count)
    ]


def timed_calls(calls: list[Any], concurrency: int) -> float:
    started = time.perf_counter()
    with ThreadPoolExecutor(concurrency) as pool:
        for failed in pool.map(lambda call: call(), calls):
            if failed:
                raise SystemExit(f"{failed} records failed")
    return time.perf_counter() - started


def landed(s3: Any, bucket: str, prefix: str) -> tuple[int, list[str]]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    keys = [obj["Key"] for page in pages for obj in page.get("Contents", []) if obj["Key"].endswith(".parquet")]
    rows = 0
    for key in keys:
        rows += pq.ParquetFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read())).metadata.num_rows
    return rows, keys


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--records", type=int, default=50_000)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--record-bytes", type=int, default=200)
    parser.add_argument("--timeout", type=float, default=120.0, help="longest wait for delivery")
    args = parser.parse_args()

    app_settings = Settings.load()
    bootstrap = kafka_bootstrap(app_settings, "benchmark Firehose on")
    s3_connection = require_s3(app_settings, "deliver to").connection()
    bucket = os.environ.get("KEMU_S3__BUCKET") or app_settings.s3.bucket
    run = uuid.uuid4().hex[:8]
    settings = KinesisSettings(firehose=FirehoseSettings(metadata_topic=f"kemu-firehose-metadata-bench-{run}"))
    server = EdgeServer(settings, bootstrap, host="127.0.0.1", port=0, s3=s3_connection).start()
    kinesis, firehose = client("kinesis", server.url), client("firehose", server.url)
    secret = s3_connection.secret_access_key.get_secret_value() if s3_connection.secret_access_key else None
    s3 = boto3.client(
        "s3",
        endpoint_url=s3_connection.endpoint_url,
        aws_access_key_id=s3_connection.access_key_id,
        aws_secret_access_key=secret,
        region_name=s3_connection.region,
        config=Config(s3={"addressing_style": "path"}),
    )
    stream, delivery, prefix = f"bench-fh-src-{run}", f"bench-fh-{run}", f"bench/firehose/{run}/"
    data = events(args.records, args.record_bytes)
    batches = [data[i : i + BATCH] for i in range(0, len(data), BATCH)]
    try:
        kinesis.create_stream(StreamName=stream, ShardCount=1)
        while kinesis.describe_stream(StreamName=stream)["StreamDescription"]["StreamStatus"] != "ACTIVE":
            time.sleep(0.05)
        firehose.create_delivery_stream(
            DeliveryStreamName=delivery,
            ExtendedS3DestinationConfiguration={
                "RoleARN": "arn:aws:iam::000000000000:role/firehose-bench",
                "BucketARN": f"arn:aws:s3:::{bucket}",
                "Prefix": prefix,
                "ErrorOutputPrefix": f"bench/firehose-errors/{run}/!{{firehose:error-output-type}}/",
                "BufferingHints": {"SizeInMBs": 5, "IntervalInSeconds": 1},
            },
        )
        while (
            firehose.describe_delivery_stream(DeliveryStreamName=delivery)["DeliveryStreamDescription"][
                "DeliveryStreamStatus"
            ]
            != "ACTIVE"
        ):
            time.sleep(0.05)

        kinesis_s = timed_calls(
            [
                lambda b=b: kinesis.put_records(
                    StreamName=stream, Records=[{"Data": d, "PartitionKey": "k"} for d in b]
                )["FailedRecordCount"]
                for b in batches
            ],
            args.concurrency,
        )
        firehose_s = timed_calls(
            [
                lambda b=b: firehose.put_record_batch(DeliveryStreamName=delivery, Records=[{"Data": d} for d in b])[
                    "FailedPutCount"
                ]
                for b in batches
            ],
            args.concurrency,
        )
        acked = time.perf_counter()
        rows, keys = landed(s3, bucket, prefix)
        while rows < args.records and time.perf_counter() - acked < args.timeout:
            time.sleep(0.2)
            rows, keys = landed(s3, bucket, prefix)
        delivery_s = time.perf_counter() - acked
        ids: set[str] = set()
        for key in keys:
            table = pq.read_table(
                io.BytesIO(s3.get_object(Bucket=bucket, Key=key)["Body"].read()), columns=["event_id"]
            )
            ids.update(table.column("event_id").to_pylist())
    finally:
        for call in (
            lambda: firehose.delete_delivery_stream(DeliveryStreamName=delivery),
            lambda: kinesis.delete_stream(StreamName=stream),
        ):
            try:
                call()
            except Exception as exc:  # cleanup must not hide the result or the real error
                print(f"cleanup: {exc}", file=sys.stderr)
        time.sleep(0.5)
        server.stop()

    result = {
        **header("firehose_put"),
        "records": args.records,
        "record_bytes": args.record_bytes,
        "concurrency": args.concurrency,
        "kinesis_put_records": {"seconds": round(kinesis_s, 3), "records_per_s": round(args.records / kinesis_s)},
        "firehose_put_record_batch": {
            "seconds": round(firehose_s, 3),
            "records_per_s": round(args.records / firehose_s),
        },
        "ratio_to_kinesis": round(kinesis_s / firehose_s, 3),
        "delivery": {
            "seconds_after_last_ack": round(delivery_s, 3),
            "objects": len(keys),
            "rows": rows,
            "exactly_once": rows == args.records and len(ids) == args.records,
        },
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
