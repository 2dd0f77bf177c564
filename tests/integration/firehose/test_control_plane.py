"""Describe/List/Delete, every error type and Firehose's limits, through boto3; a restart keeps the streams."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import orjson
import pytest
from botocore.exceptions import ClientError

from tests.integration.firehose.conftest import (
    parquet_rows,
    s3_config,
    settings,
    wait_active,
)
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import aws_client, firehose_client, serve_kinesis

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def error_of(call: Callable[[], Any]) -> tuple[str, str, int]:
    with pytest.raises(ClientError) as caught:
        call()
    response = caught.value.response
    return response["Error"]["Code"], response["Error"]["Message"], response["ResponseMetadata"]["HTTPStatusCode"]


def test_describe_list_delete(firehose: Any, bucket: str, bucket_prefix: str, delivery_name: Callable[[], str]) -> None:
    names = sorted(delivery_name() for _ in range(3))
    for name in names:
        answer = firehose.create_delivery_stream(
            DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix, 60)
        )
        assert answer["DeliveryStreamARN"] == f"arn:aws:firehose:us-east-1:000000000000:deliverystream/{name}"
    description = wait_active(firehose, names[0])
    assert description["DeliveryStreamType"] == "DirectPut"
    assert abs(description["CreateTimestamp"].timestamp() - time.time()) < 60
    s3_description = description["Destinations"][0]["ExtendedS3DestinationDescription"]
    assert s3_description["BucketARN"] == f"arn:aws:s3:::{bucket}"
    assert s3_description["Prefix"] == f"{bucket_prefix}data/"
    assert s3_description["ErrorOutputPrefix"] == f"{bucket_prefix}errors/!{{firehose:error-output-type}}/"
    assert s3_description["BufferingHints"] == {"SizeInMBs": 1, "IntervalInSeconds": 60}
    serde = s3_description["DataFormatConversionConfiguration"]["OutputFormatConfiguration"]["Serializer"]
    assert serde == {"ParquetSerDe": {"Compression": "SNAPPY"}}

    listed = firehose.list_delivery_streams(Limit=10000)
    assert set(names) <= set(listed["DeliveryStreamNames"])
    page = firehose.list_delivery_streams(Limit=1, ExclusiveStartDeliveryStreamName=names[0])
    assert page["DeliveryStreamNames"] == [names[1]]
    assert page["HasMoreDeliveryStreams"] is True
    assert (
        names[0]
        not in firehose.list_delivery_streams(DeliveryStreamType="KinesisStreamAsSource")["DeliveryStreamNames"]
    )

    for name in names:
        wait_active(firehose, name)
        assert firehose.delete_delivery_stream(DeliveryStreamName=name)["ResponseMetadata"]["HTTPStatusCode"] == 200
    deadline = time.monotonic() + 30
    for name in names:
        while name in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]:
            try:
                status = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
            except firehose.exceptions.ResourceNotFoundException:
                break  # the deletion finished between the list and the describe
            assert status["DeliveryStreamStatus"] == "DELETING"
            assert time.monotonic() < deadline
            time.sleep(0.1)
        code, _, _ = error_of(lambda name=name: firehose.describe_delivery_stream(DeliveryStreamName=name))
        assert code == "ResourceNotFoundException"


def test_errors_are_aws_shaped(
    firehose: Any, new_delivery_stream: Callable[..., str], bucket: str, bucket_prefix: str
) -> None:
    missing = f"fh-missing-{uuid.uuid4().hex[:6]}"
    code, message, status = error_of(lambda: firehose.describe_delivery_stream(DeliveryStreamName=missing))
    assert (code, status) == ("ResourceNotFoundException", 400)
    assert missing in message
    for call in (
        lambda: firehose.delete_delivery_stream(DeliveryStreamName=missing),
        lambda: firehose.put_record(DeliveryStreamName=missing, Record={"Data": b"{}"}),
        lambda: firehose.put_record_batch(DeliveryStreamName=missing, Records=[{"Data": b"{}"}]),
    ):
        assert error_of(call)[0] == "ResourceNotFoundException"

    destination = s3_config(bucket, bucket_prefix)
    name = new_delivery_stream(ExtendedS3DestinationConfiguration=destination)
    code, _, _ = error_of(
        lambda: firehose.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=destination)
    )
    assert code == "ResourceInUseException"

    invalid = {
        "bucket missing": dict(destination, BucketARN="arn:aws:s3:::kemu-no-such-bucket-here"),
        "gzip": dict(destination, CompressionFormat="GZIP", DataFormatConversionConfiguration={"Enabled": False}),
        "bad prefix": dict(destination, Prefix="data/!{firehose:error-output-type}/"),
        "no error prefix with expressions": {
            k: v for k, v in dict(destination, Prefix="dt=!{timestamp:yyyy}/").items() if k != "ErrorOutputPrefix"
        },
    }
    for case, config in invalid.items():
        code, message, _ = error_of(
            lambda config=config: firehose.create_delivery_stream(
                DeliveryStreamName=f"fh-bad-{uuid.uuid4().hex[:6]}", ExtendedS3DestinationConfiguration=config
            )
        )
        assert code == "InvalidArgumentException", (case, message)
    code, _, _ = error_of(
        lambda: firehose.create_delivery_stream(
            DeliveryStreamName=f"fh-src-{uuid.uuid4().hex[:6]}",
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={
                "KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/kemu-no-such-stream",
                "RoleARN": "arn:aws:iam::000000000000:role/r",
            },
            ExtendedS3DestinationConfiguration=destination,
        )
    )
    assert code == "InvalidArgumentException"

    # ValidationException: a member breaking its shape constraint (boto3 validates names client-side, so the
    # name is checked with validation off; sizes and counts are only checked by the server).
    assert error_of(lambda: firehose.put_record(DeliveryStreamName=name, Record={"Data": b"x" * 1_024_001}))[0] == (
        "ValidationException"
    )
    too_many = [{"Data": b"{}"}] * 501
    assert error_of(lambda: firehose.put_record_batch(DeliveryStreamName=name, Records=too_many))[0] == (
        "ValidationException"
    )
    big = [{"Data": b"x" * 1_000_000}] * 5  # each under 1,000 KiB, together over 4 MiB
    code, message, _ = error_of(lambda: firehose.put_record_batch(DeliveryStreamName=name, Records=big))
    assert code == "InvalidArgumentException"
    assert "4 MiB" in message
    # At the limits exactly, everything is taken.
    ok = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": b"{}"}] * 500)
    assert ok["FailedPutCount"] == 0
    assert len(ok["RequestResponses"]) == 500
    assert firehose.put_record(DeliveryStreamName=name, Record={"Data": b"x" * 1_024_000})["RecordId"]

    code, _, _ = error_of(lambda: firehose.tag_delivery_stream(DeliveryStreamName=name, Tags=[{"Key": "a"}]))
    assert code == "UnsupportedOperationException"


def test_bad_name_is_a_validation_error(firehose_url: str) -> None:
    client = aws_client("firehose", firehose_url, parameter_validation=False)
    code, message, _ = error_of(lambda: client.describe_delivery_stream(DeliveryStreamName="bad/name"))
    assert code == "ValidationException"
    assert "deliveryStreamName" in message


def test_limit_and_restart(
    kafka_bootstrap: str, endpoints: Endpoints, s3: S3Client, bucket: str, bucket_prefix: str
) -> None:
    """A quota of one stream; a restarted server brings the stream back ACTIVE and its delivery with it."""
    topic = f"kemu-firehose-metadata-test-{uuid.uuid4().hex[:8]}"
    name = f"fh-restart-{uuid.uuid4().hex[:6]}"
    destination = s3_config(bucket, bucket_prefix)
    first = [{"event_id": f"a-{i:03d}", "n": i} for i in range(10)]
    with serve_kinesis(settings(topic, delivery_stream_limit=1), kafka_bootstrap, endpoints.s3_connection()) as url:
        client = firehose_client(url)
        client.create_delivery_stream(DeliveryStreamName=name, ExtendedS3DestinationConfiguration=destination)
        code, _, _ = error_of(
            lambda: client.create_delivery_stream(
                DeliveryStreamName=name + "-2", ExtendedS3DestinationConfiguration=destination
            )
        )
        assert code == "LimitExceededException"
        wait_active(client, name)
        client.put_record_batch(DeliveryStreamName=name, Records=[{"Data": orjson.dumps(e)} for e in first])
    # Stopping wrote what was buffered; the new server delivers the rest, with no record twice.
    second = [{"event_id": f"b-{i:03d}", "n": i} for i in range(10)]
    with serve_kinesis(settings(topic), kafka_bootstrap, endpoints.s3_connection()) as url:
        client = firehose_client(url)
        description = wait_active(client, name)
        assert description["Destinations"][0]["ExtendedS3DestinationDescription"]["Prefix"] == f"{bucket_prefix}data/"
        client.put_record_batch(DeliveryStreamName=name, Records=[{"Data": orjson.dumps(e)} for e in second])
        assert parquet_rows(s3, bucket, f"{bucket_prefix}data/", expected=20) == first + second
        client.delete_delivery_stream(DeliveryStreamName=name)


def test_a_stream_created_again_delivers_only_its_own_records(
    firehose: Any, s3: S3Client, bucket: str, bucket_prefix: str, delivery_name: Callable[[], str]
) -> None:
    name = delivery_name()
    old = [{"event_id": f"old-{i}", "n": i} for i in range(5)]
    firehose.create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_config(bucket, f"{bucket_prefix}one/")
    )
    wait_active(firehose, name)
    firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": orjson.dumps(e)} for e in old])
    assert parquet_rows(s3, bucket, f"{bucket_prefix}one/data/", expected=5) == old
    firehose.delete_delivery_stream(DeliveryStreamName=name)
    deadline = time.monotonic() + 30
    while name in firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]:
        assert time.monotonic() < deadline
        time.sleep(0.05)
    firehose.create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_config(bucket, f"{bucket_prefix}two/")
    )
    try:
        wait_active(firehose, name)
        new = [{"event_id": f"new-{i}", "n": i} for i in range(5)]
        firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": orjson.dumps(e)} for e in new])
        assert parquet_rows(s3, bucket, f"{bucket_prefix}two/data/", expected=5) == new
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)
