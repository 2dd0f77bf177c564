"""The review's bad inputs, replayed over the wire: each is a 4xx with an AWS error type, never a 500.

Before, NaN and infinities in CBOR numbers, AT_TIMESTAMP values before 1970 or far in the future, and ISO dates
whose UTC form leaves years 1..9999 ended in ``500 InternalFailure``; a CBOR body with bytes after its map was read
as if they were not there; an over-long ExclusiveStartShardId listed the shards again from shard 0.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cbor2
import orjson
import pytest

from tests.support.wire import CBOR, JSON, post

NAN, INF = float("nan"), float("inf")


def raw(url: str, operation: str, body: bytes, content_type: str) -> tuple[int, dict[str, Any]]:
    response = post(url, operation, body, content_type)
    if content_type == CBOR:  # timestamps (tag 1) are milliseconds here, not cbor2's seconds
        decoded = cbor2.loads(response.content, semantic_decoders={1: lambda value, _immutable: value})
    else:
        decoded = orjson.loads(response.content)
    return response.status_code, decoded


def cbor(url: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return raw(url, operation, cbor2.dumps(body), CBOR)


def json(url: str, operation: str, body: dict[str, Any]) -> tuple[int, dict[str, Any]]:
    return raw(url, operation, orjson.dumps(body), JSON)


def refused(answer: tuple[int, dict[str, Any]], error: str) -> None:
    status, body = answer
    assert (status, body.get("__type")) == (400, error), body


@pytest.mark.parametrize("limit", [NAN, INF, -INF, 2.5, 2**70])
def test_cbor_numbers_that_are_not_integers_are_refused(kinesis_url: str, limit: float) -> None:
    status, body = cbor(kinesis_url, "ListStreams", {"Limit": limit})
    assert status == 400, body
    assert body["__type"] in ("SerializationException", "ValidationException")


def test_cbor_timestamps_that_are_not_numbers_of_milliseconds_are_refused(
    kinesis_url: str, new_stream: Callable[..., str]
) -> None:
    name = new_stream()
    for value in (NAN, INF, -INF, cbor2.CBORTag(1, NAN), cbor2.CBORTag(1, 2**80)):
        body = {"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"}
        refused(cbor(kinesis_url, "GetShardIterator", {**body, "Timestamp": value}), "SerializationException")
        shard_filter = {"Type": "AT_TIMESTAMP", "Timestamp": value}
        refused(
            cbor(kinesis_url, "ListShards", {"StreamName": name, "ShardFilter": shard_filter}), "SerializationException"
        )


def test_at_timestamp_before_the_epoch_reads_from_the_oldest_record(
    kinesis: Any, kinesis_url: str, new_stream: Callable[..., str]
) -> None:
    name = new_stream()
    kinesis.put_record(StreamName=name, Data=b"first", PartitionKey="k")
    base = {"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"}
    for value in (-1, 0, "1960-01-01T00:00:00Z", "0001-01-01T00:00:00+23:59"):
        status, body = json(kinesis_url, "GetShardIterator", {**base, "Timestamp": value})
        assert status == 200, (value, body)
        records = kinesis.get_records(ShardIterator=body["ShardIterator"])["Records"]
        assert [record["Data"] for record in records] == [b"first"], value


def test_at_timestamp_in_the_future_is_refused_as_aws_refuses_it(
    kinesis_url: str, new_stream: Callable[..., str]
) -> None:
    name = new_stream()
    base = {"StreamName": name, "ShardId": "shardId-000000000000", "ShardIteratorType": "AT_TIMESTAMP"}
    for value in (time.time() + 3600, 9.3e12, "9999-12-31T23:59:59-23:59"):
        status, body = json(kinesis_url, "GetShardIterator", {**base, "Timestamp": value})
        assert (status, body["__type"]) == (400, "InvalidArgumentException"), (value, body)
        assert "cannot be greater than the currentTimestampInMillis" in body["message"]
    # Beyond what a 64-bit count of milliseconds holds: not a timestamp at all.
    for value in (1e300, 9.3e15):
        refused(json(kinesis_url, "GetShardIterator", {**base, "Timestamp": value}), "SerializationException")


def test_a_cbor_body_with_bytes_after_its_map_is_a_serialization_error(kinesis_url: str) -> None:
    for trailer in (b"\x00", b"\xff", cbor2.dumps({"Limit": 1})):
        refused(raw(kinesis_url, "ListStreams", cbor2.dumps({"Limit": 5}) + trailer, CBOR), "SerializationException")


def test_an_over_long_exclusive_start_shard_id_never_restarts_the_listing(
    kinesis: Any, new_stream: Callable[..., str]
) -> None:
    name = new_stream(shards=3)

    def after(start: str) -> list[str]:
        shards = kinesis.describe_stream(StreamName=name, ExclusiveStartShardId=start)["StreamDescription"]["Shards"]
        listed = [shard["ShardId"] for shard in shards]
        assert kinesis.list_shards(StreamName=name, ExclusiveStartShardId=start)["Shards"] == shards
        return listed

    assert after("shardId-000000000000") == ["shardId-000000000001", "shardId-000000000002"]
    assert after("shardId-0000000000001") == ["shardId-000000000002"]  # 13 digits, still shard 1
    assert after("shardId-9999999999999") == []
    assert after("shardId-" + "9" * 100) == []
    assert after("zzz") == []  # sorts after every shard id
    assert after("a") == ["shardId-000000000000", "shardId-000000000001", "shardId-000000000002"]
