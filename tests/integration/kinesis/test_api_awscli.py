"""The aws-cli (PyPI ``awscli``), unchanged, against the endpoint: the commands a user types."""

from __future__ import annotations

import base64
import shutil
import uuid
from pathlib import Path
from typing import Any

from producers.partitioning import shard_for_partition_key, shard_id
from tests.support.aws_cli import AWS, aws_cli
from tests.support.kinesis_server import wait_active


def aws(url: str, *args: str, check: bool = True) -> Any:
    return aws_cli(url, "kinesis", *args, check=check)


def test_aws_cli_round_trip(kinesis_url: str, kinesis: Any) -> None:
    assert shutil.which(AWS) or Path(AWS).exists()
    name = f"ks-cli-{uuid.uuid4().hex[:6]}"
    aws(kinesis_url, "create-stream", "--stream-name", name, "--shard-count", "2")
    wait_active(kinesis, name)
    summary = aws(kinesis_url, "describe-stream-summary", "--stream-name", name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 2
    assert name in aws(kinesis_url, "list-streams")["StreamNames"]

    # aws-cli v1 sends a blob argument's text as the raw bytes (v2 would need --cli-binary-format).
    put = aws(kinesis_url, "put-record", "--stream-name", name, "--partition-key", "cli-key", "--data", "hello cli")
    assert put["ShardId"] == shard_id(shard_for_partition_key("cli-key", 2))
    iterator = aws(
        kinesis_url,
        "get-shard-iterator",
        "--stream-name",
        name,
        "--shard-id",
        put["ShardId"],
        "--shard-iterator-type",
        "AT_SEQUENCE_NUMBER",
        "--starting-sequence-number",
        put["SequenceNumber"],
    )["ShardIterator"]
    records = aws(kinesis_url, "get-records", "--shard-iterator", iterator)["Records"]
    assert [base64.b64decode(r["Data"]) for r in records] == [b"hello cli"]
    assert records[0]["PartitionKey"] == "cli-key"

    missing = aws(kinesis_url, "describe-stream", "--stream-name", "kemu-cli-no-such-stream", check=False)
    assert missing.returncode != 0
    assert "ResourceNotFoundException" in missing.stderr

    aws(kinesis_url, "delete-stream", "--stream-name", name)
