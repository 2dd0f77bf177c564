"""The client matrix's Python rows: boto3 and the aws-cli (PyPI ``awscli``), unchanged, each with its own waiter:
create a 2-shard stream, put 100 binary records, list the shards, read them all back byte-identical with
GetRecords, delete and wait until the stream is gone. The Go, Java, Node and KCL rows are ``test_client_*.py``."""

from __future__ import annotations

import base64
import os
import uuid
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from tests.integration.kinesis.test_api_awscli import aws


def binary_records() -> list[bytes]:
    """100 records of every byte value, none of them valid UTF-8 (0xff first)."""
    return [bytes([0xFF, i]) + os.urandom(62) for i in range(100)]


def read_shard(get_iterator: Any, get_records: Any, shard: str) -> list[bytes]:
    iterator = get_iterator(shard)
    records: list[bytes] = []
    for _ in range(100):
        page = get_records(iterator)
        records.extend(page["records"])
        iterator = page["next"]
        if not page["records"] and page["behind"] == 0:
            break
    return records


def test_boto3_round_trips_binary_records_with_its_waiters(kinesis: Any) -> None:
    name = f"matrix-boto3-{uuid.uuid4().hex[:8]}"
    kinesis.create_stream(StreamName=name, ShardCount=2)
    kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
    sent = binary_records()
    put = kinesis.put_records(
        StreamName=name, Records=[{"Data": data, "PartitionKey": f"key-{i}"} for i, data in enumerate(sent)]
    )
    assert put["FailedRecordCount"] == 0
    shards = [s["ShardId"] for s in kinesis.list_shards(StreamName=name)["Shards"]]
    assert len(shards) == 2

    def get_iterator(shard: str) -> str:
        return str(
            kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
                "ShardIterator"
            ]
        )

    def get_records(iterator: str) -> dict[str, Any]:
        page = kinesis.get_records(ShardIterator=iterator, Limit=30)
        return {
            "records": [r["Data"] for r in page["Records"]],
            "next": page["NextShardIterator"],
            "behind": page["MillisBehindLatest"],
        }

    received = [data for shard in shards for data in read_shard(get_iterator, get_records, shard)]
    assert sorted(received) == sorted(sent)
    kinesis.delete_stream(StreamName=name)
    kinesis.get_waiter("stream_not_exists").wait(StreamName=name, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def test_the_aws_cli_round_trips_binary_records_with_its_waiters(kinesis_url: str, tmp_path: Path) -> None:
    name = f"matrix-cli-{uuid.uuid4().hex[:8]}"
    aws(kinesis_url, "create-stream", "--stream-name", name, "--shard-count", "2")
    aws(kinesis_url, "wait", "stream-exists", "--stream-name", name)
    sent = binary_records()
    # aws-cli v1 sends a blob inside JSON input as the text given, so binary data goes top-level, from a file
    # (fileb:// reads the bytes as they are): one put-record per record, eight at a time.
    for i, data in enumerate(sent):
        (tmp_path / f"{i}.bin").write_bytes(data)

    def put(i: int) -> Any:
        return aws(
            kinesis_url, "put-record", "--stream-name", name, "--partition-key", f"key-{i}",
            "--data", f"fileb://{tmp_path / f'{i}.bin'}",
        )  # fmt: skip

    with ThreadPoolExecutor(8) as pool:
        assert all(answer["SequenceNumber"] for answer in pool.map(put, range(len(sent))))
    shards = [s["ShardId"] for s in aws(kinesis_url, "list-shards", "--stream-name", name)["Shards"]]
    assert len(shards) == 2

    def get_iterator(shard: str) -> str:
        found = aws(
            kinesis_url, "get-shard-iterator", "--stream-name", name, "--shard-id", shard,
            "--shard-iterator-type", "TRIM_HORIZON",
        )  # fmt: skip
        return str(found["ShardIterator"])

    def get_records(iterator: str) -> dict[str, Any]:
        page = aws(kinesis_url, "get-records", "--shard-iterator", iterator, "--limit", "30")
        return {
            "records": [base64.b64decode(r["Data"]) for r in page["Records"]],
            "next": page["NextShardIterator"],
            "behind": page["MillisBehindLatest"],
        }

    received = [data for shard in shards for data in read_shard(get_iterator, get_records, shard)]
    assert sorted(received) == sorted(sent)
    aws(kinesis_url, "delete-stream", "--stream-name", name)
    aws(kinesis_url, "wait", "stream-not-exists", "--stream-name", name)
