"""Firehose over raw CBOR 1.1 (as the Java SDK v2 sends it) and through the unchanged aws-cli."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cbor2
import httpx
import orjson

from tests.integration.firehose.conftest import s3_config

CBOR = "application/x-amz-cbor-1.1"
AWS = str(Path(sys.executable).with_name("aws"))


def cbor_call(url: str, operation: str, body: dict[str, Any]) -> tuple[int, Any]:
    response = httpx.post(
        url,
        content=cbor2.dumps(body),
        headers={"Content-Type": CBOR, "X-Amz-Target": f"Firehose_20150804.{operation}"},
        timeout=30,
    )
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
    env = {
        "PATH": os.environ.get("PATH", ""),
        "HOME": os.environ.get("HOME", str(Path.home())),
        "AWS_ACCESS_KEY_ID": "AKIDEXAMPLE",
        "AWS_SECRET_ACCESS_KEY": "whatever",
        "AWS_DEFAULT_REGION": "us-east-1",
        "AWS_CONFIG_FILE": "/dev/null",
        "AWS_SHARED_CREDENTIALS_FILE": "/dev/null",
    }
    done = subprocess.run(
        [AWS, "firehose", "list-delivery-streams", "--limit", "10000", "--endpoint-url", firehose_url],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert name in json.loads(done.stdout)["DeliveryStreamNames"]
