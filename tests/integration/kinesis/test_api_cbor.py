"""Raw CBOR 1.1 bodies, as the Java SDK v2 sends them: blobs as byte strings, timestamps as tag-1 epoch millis."""

from __future__ import annotations

import time
import uuid
from typing import Any

import cbor2
import pytest

from producers.partitioning import shard_for_partition_key, shard_id
from tests.support.wire import CBOR, FIREHOSE, KINESIS, UNCHECKED_SIGNATURE, post


def call(url: str, operation: str, body: dict[str, Any] | bytes, prefix: str = KINESIS) -> tuple[int, Any]:
    payload = body if isinstance(body, bytes) else cbor2.dumps(body)
    response = post(url, operation, payload, CBOR, service=prefix, headers=UNCHECKED_SIGNATURE)
    assert response.headers["content-type"] == CBOR
    if not response.content:  # operations without output answer an empty body, as AWS does
        return response.status_code, {}
    decoded = cbor2.loads(response.content, semantic_decoders={1: lambda value, _immutable: ("tag1", value)})
    return response.status_code, decoded


def ok(url: str, operation: str, body: dict[str, Any]) -> Any:
    status, decoded = call(url, operation, body)
    assert status == 200, decoded
    return decoded


def test_every_operation_over_cbor(kinesis_url: str) -> None:
    name = f"ks-cbor-{uuid.uuid4().hex[:6]}"
    assert ok(kinesis_url, "CreateStream", {"StreamName": name, "ShardCount": 2}) == {}
    deadline = time.monotonic() + 20
    while ok(kinesis_url, "DescribeStream", {"StreamName": name})["StreamDescription"]["StreamStatus"] != "ACTIVE":
        assert time.monotonic() < deadline
        time.sleep(0.05)
    summary = ok(kinesis_url, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"]
    created_tag, created_ms = summary["StreamCreationTimestamp"]
    assert created_tag == "tag1"
    assert abs(created_ms - time.time() * 1000) < 60_000  # milliseconds, not seconds

    put = ok(kinesis_url, "PutRecord", {"StreamName": name, "Data": b"\x00\xffbinary", "PartitionKey": "p"})
    assert put["ShardId"] == shard_id(shard_for_partition_key("p", 2))
    before_ms = int(time.time() * 1000)
    time.sleep(0.02)
    batch = ok(
        kinesis_url,
        "PutRecords",
        {"StreamName": name, "Records": [{"Data": bytes([i]), "PartitionKey": "p"} for i in range(10)]},
    )
    assert batch["FailedRecordCount"] == 0

    iterator = ok(
        kinesis_url,
        "GetShardIterator",
        {
            "StreamName": name,
            "ShardId": put["ShardId"],
            "ShardIteratorType": "AT_TIMESTAMP",
            "Timestamp": cbor2.CBORTag(1, before_ms),
        },
    )["ShardIterator"]
    records = ok(kinesis_url, "GetRecords", {"ShardIterator": iterator})
    assert [r["Data"] for r in records["Records"]] == [bytes([i]) for i in range(10)]
    tag, arrival_ms = records["Records"][0]["ApproximateArrivalTimestamp"]
    assert tag == "tag1"
    assert before_ms <= arrival_ms < before_ms + 60_000

    horizon = ok(
        kinesis_url,
        "GetShardIterator",
        {"StreamName": name, "ShardId": put["ShardId"], "ShardIteratorType": "TRIM_HORIZON"},
    )["ShardIterator"]
    assert (
        ok(kinesis_url, "GetRecords", {"ShardIterator": horizon, "Limit": 1})["Records"][0]["Data"] == b"\x00\xffbinary"
    )

    assert name in ok(kinesis_url, "ListStreams", {})["StreamNames"]
    assert len(ok(kinesis_url, "ListShards", {"StreamName": name})["Shards"]) == 2
    ok(kinesis_url, "AddTagsToStream", {"StreamName": name, "Tags": {"a": "b"}})
    assert ok(kinesis_url, "ListTagsForStream", {"StreamName": name})["Tags"] == [{"Key": "a", "Value": "b"}]
    ok(kinesis_url, "RemoveTagsFromStream", {"StreamName": name, "TagKeys": ["a"]})
    ok(kinesis_url, "IncreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": 30})
    ok(kinesis_url, "DecreaseStreamRetentionPeriod", {"StreamName": name, "RetentionPeriodHours": 25})
    assert (
        ok(kinesis_url, "DescribeStreamSummary", {"StreamName": name})["StreamDescriptionSummary"][
            "RetentionPeriodHours"
        ]
        == 25
    )
    ok(kinesis_url, "DeleteStream", {"StreamName": name})


@pytest.mark.parametrize(
    ("operation", "body", "expected"),
    [
        ("DescribeStream", {"StreamName": "kemu-no-such-stream"}, "ResourceNotFoundException"),
        ("DescribeStream", {}, "InvalidArgumentException"),
        ("CreateStream", {"StreamName": "x", "ShardCount": 0}, "ValidationException"),
        ("CreateStream", {"StreamName": "x", "ShardCount": "two"}, "SerializationException"),
        ("PutRecord", {"StreamName": "x", "Data": "not base64!", "PartitionKey": "k"}, "SerializationException"),
        ("GetRecords", {"ShardIterator": "bm90LW91cnM="}, "InvalidArgumentException"),
        ("StartStreamEncryption", {"StreamName": "x"}, "UnsupportedOperationException"),
        ("SplitShard", {"StreamName": "x"}, "ValidationException"),
        ("NoSuchOperation", {}, "UnknownOperationException"),
        ("DescribeStream", b"\xff\xfe not cbor", "SerializationException"),
        ("DescribeStream", cbor2.dumps([1, 2]), "SerializationException"),
    ],
)
def test_errors_are_aws_shaped_in_cbor(kinesis_url: str, operation: str, body: Any, expected: str) -> None:
    status, decoded = call(kinesis_url, operation, body)
    assert status == 400
    assert decoded["__type"] == expected
    assert decoded["message"]


def test_firehose_without_s3_target_and_unsupported_firehose_operations(kinesis_url: str) -> None:
    status, decoded = call(kinesis_url, "TagDeliveryStream", {"DeliveryStreamName": "x"}, prefix=FIREHOSE)
    assert status == 400
    assert decoded["__type"] == "UnsupportedOperationException"
    assert "Firehose" in decoded["message"]
    # This server was started without an S3 target: delivery streams cannot be created, and it says why.
    body = {"DeliveryStreamName": "x", "ExtendedS3DestinationConfiguration": {"BucketARN": "arn:aws:s3:::kemu"}}
    status, decoded = call(kinesis_url, "CreateDeliveryStream", body, prefix=FIREHOSE)
    assert status == 400
    assert decoded["__type"] == "InvalidArgumentException"
    assert "no S3 target" in decoded["message"]


def test_malformed_json_and_wrong_content_type(kinesis_url: str) -> None:
    bad_json = post(kinesis_url, "ListStreams", b"{not json")
    assert bad_json.status_code == 400
    assert bad_json.json()["__type"] == "SerializationException"
    wrong_type = post(kinesis_url, "ListStreams", b"{}", "text/plain")
    assert wrong_type.status_code == 400
    assert wrong_type.json()["__type"] == "SerializationException"
