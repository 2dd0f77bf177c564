"""Firehose over raw CBOR 1.1 (as the Java SDK v2 sends it) and through the unchanged aws-cli."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import cbor2
import orjson

from tests.integration.firehose.conftest import s3_config
from tests.support.aws_cli import aws_cli
from tests.support.wire import CBOR, FIREHOSE, post


def cbor_call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = post(url, operation, cbor2.dumps(body), CBOR, service=FIREHOSE)
    assert response.headers["content-type"] == CBOR
    return response.status_code, cbor2.loads(
        response.content, semantic_decoders={1: lambda value, _immutable: ("tag1", value)}
    )


def test_cbor_create_describe_put_list(
    firehose_url: str, bucket: str, bucket_prefix: str, delivery_name: Callable[[], str]
) -> None:
    name = delivery_name()
    status, created = cbor_call(
        firehose_url,
        "CreateDeliveryStream",
        {"DeliveryStreamName": name, "ExtendedS3DestinationConfiguration": s3_config(bucket, bucket_prefix)},
    )
    assert status == 200, created
    assert created["DeliveryStreamARN"].endswith(f":deliverystream/{name}")
    deadline = time.monotonic() + 30
    while True:
        status, described = cbor_call(firehose_url, "DescribeDeliveryStream", {"DeliveryStreamName": name})
        description = described["DeliveryStreamDescription"]
        if description["DeliveryStreamStatus"] == "ACTIVE":
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    tag, created_ms = description["CreateTimestamp"]
    assert tag == "tag1"
    assert abs(created_ms - time.time() * 1000) < 60_000  # epoch milliseconds, as CBOR carries timestamps

    status, put = cbor_call(firehose_url, "PutRecord", {"DeliveryStreamName": name, "Record": {"Data": b'{"a": 1}'}})
    assert status == 200, put
    assert isinstance(put["RecordId"], str)
    status, batch = cbor_call(
        firehose_url, "PutRecordBatch", {"DeliveryStreamName": name, "Records": [{"Data": orjson.dumps({"b": 2})}]}
    )
    assert batch["FailedPutCount"] == 0
    status, listed = cbor_call(firehose_url, "ListDeliveryStreams", {"Limit": 10000})
    assert name in listed["DeliveryStreamNames"]
    status, error = cbor_call(firehose_url, "DescribeDeliveryStream", {"DeliveryStreamName": name + "-nope"})
    assert status == 400
    assert error["__type"] == "ResourceNotFoundException"
    assert cbor_call(firehose_url, "DeleteDeliveryStream", {"DeliveryStreamName": name}) == (200, {})


def test_aws_cli_lists_delivery_streams(
    firehose_url: str, firehose: Any, new_delivery_stream: Callable[..., str], bucket: str, bucket_prefix: str
) -> None:
    name = new_delivery_stream(ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix))
    listed = aws_cli(firehose_url, "firehose", "list-delivery-streams", "--limit", "10000")
    assert name in listed["DeliveryStreamNames"]
