"""boto3's firehose client against kemu: records put through the API land in MinIO as Parquet, bad ones under the
error prefix; a KinesisStreamAsSource stream delivers what Kinesis PutRecords wrote."""

from __future__ import annotations

import io
import json
import time
import uuid
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow.parquet as pq

from tests.integration.firehose.conftest import parquet_rows, s3_config, wait_objects
from tests.support.kinesis_server import wait_active as wait_stream_active

if TYPE_CHECKING:
    from collections.abc import Callable

    from mypy_boto3_s3 import S3Client


def event(i: int) -> dict[str, Any]:
    return {
        "event_id": f"e-{i:05d}",
        "event_type": "score",
        "event_time": "2026-11-27T08:00:00.123Z",
        "player_id": f"p-{i % 7}",
        "points": i,
    }


def test_direct_put_batch_lands_as_parquet_and_bad_records_under_error_prefix(
    firehose: Any, new_delivery_stream: Callable[..., str], s3: S3Client, bucket: str, bucket_prefix: str
) -> None:
    name = new_delivery_stream(
        DeliveryStreamType="DirectPut", ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix)
    )
    good = [event(i) for i in range(60)]
    bad = [b"not json {", b"[1, 2, 3]", b'"just a string"']
    records = [{"Data": orjson.dumps(e)} for e in good[:30]] + [{"Data": d} for d in bad]
    records += [{"Data": orjson.dumps(e)} for e in good[30:59]]
    answer = firehose.put_record_batch(DeliveryStreamName=name, Records=records)
    assert answer["FailedPutCount"] == 0
    ids = [r["RecordId"] for r in answer["RequestResponses"]]
    assert len(ids) == len(records) == len(set(ids))
    single = firehose.put_record(DeliveryStreamName=name, Record={"Data": orjson.dumps(good[59])})
    assert single["RecordId"] not in ids

    rows = parquet_rows(s3, bucket, f"{bucket_prefix}data/", expected=len(good))
    assert rows == good
    keys = wait_objects(s3, bucket, f"{bucket_prefix}data/", lambda keys: bool(keys))
    first = pq.ParquetFile(io.BytesIO(s3.get_object(Bucket=bucket, Key=keys[0])["Body"].read()))
    assert first.metadata.row_group(0).column(0).compression == "SNAPPY"
    assert all(key.startswith(f"{bucket_prefix}data/2") for key in keys)  # yyyy/MM/dd/HH/ appended, as Firehose

    error_prefix = f"{bucket_prefix}errors/"
    error_keys = wait_objects(s3, bucket, error_prefix, lambda keys: bool(keys))
    lines = [
        json.loads(line)
        for key in error_keys
        for line in s3.get_object(Bucket=bucket, Key=key)["Body"].read().splitlines()
    ]
    assert sorted(line["rawDataUtf8"].encode() for line in lines) == sorted(bad)
    assert all(key.startswith(f"{error_prefix}format-conversion-failed/") for key in error_keys)


def test_kinesis_stream_as_source_delivers_what_kinesis_wrote(
    firehose: Any, kinesis: Any, new_delivery_stream: Callable[..., str], s3: S3Client, bucket: str, bucket_prefix: str
) -> None:
    stream = "fh-src-" + uuid.uuid4().hex[:8]
    kinesis.create_stream(StreamName=stream, ShardCount=2)
    try:
        arn = wait_stream_active(kinesis, stream)["StreamARN"]
        before = [event(i) for i in range(5)]  # written before the delivery stream: Firehose starts at LATEST
        kinesis.put_records(
            StreamName=stream, Records=[{"Data": orjson.dumps(e), "PartitionKey": e["player_id"]} for e in before]
        )
        name = new_delivery_stream(
            DeliveryStreamType="KinesisStreamAsSource",
            KinesisStreamSourceConfiguration={"KinesisStreamARN": arn, "RoleARN": "arn:aws:iam::000000000000:role/r"},
            ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix),
        )
        description = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        assert description["Source"]["KinesisStreamSourceDescription"]["KinesisStreamARN"] == arn
        after = [event(i) for i in range(100, 140)]
        answer = kinesis.put_records(
            StreamName=stream, Records=[{"Data": orjson.dumps(e), "PartitionKey": e["player_id"]} for e in after]
        )
        assert answer["FailedRecordCount"] == 0
        assert parquet_rows(s3, bucket, f"{bucket_prefix}data/", expected=len(after)) == after
        # PutRecord on a KinesisStreamAsSource delivery stream is refused, as Firehose does.
        error = _error(lambda: firehose.put_record(DeliveryStreamName=name, Record={"Data": b"{}"}))
        assert error["Code"] == "InvalidArgumentException"
    finally:
        kinesis.delete_stream(StreamName=stream)


def _error(call: Callable[[], Any]) -> dict[str, Any]:
    from botocore.exceptions import ClientError

    try:
        call()
    except ClientError as exc:
        return dict(exc.response["Error"])
    raise AssertionError("the call succeeded")


def test_delivery_failure_is_described_and_recovers_without_loss(
    firehose: Any, new_delivery_stream: Callable[..., str], s3: S3Client, bucket_prefix: str
) -> None:
    """The destination bucket disappears: Describe shows why delivery fails; once it is back, every acknowledged
    record lands, once."""
    own_bucket = f"kemu-fh-{uuid.uuid4().hex[:10]}"
    s3.create_bucket(Bucket=own_bucket)
    name = new_delivery_stream(ExtendedS3DestinationConfiguration=s3_config(own_bucket, bucket_prefix))
    s3.delete_bucket(Bucket=own_bucket)
    sent = [event(i) for i in range(20)]
    answer = firehose.put_record_batch(DeliveryStreamName=name, Records=[{"Data": orjson.dumps(e)} for e in sent])
    assert answer["FailedPutCount"] == 0
    deadline = time.monotonic() + 20
    while True:
        description = firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
        if "FailureDescription" in description:
            break
        assert time.monotonic() < deadline, "the failure never showed"
        time.sleep(0.1)
    assert "NoSuchBucket" in description["FailureDescription"]["Details"]
    assert description["DeliveryStreamStatus"] == "ACTIVE"
    s3.create_bucket(Bucket=own_bucket)
    assert parquet_rows(s3, own_bucket, f"{bucket_prefix}data/", expected=len(sent)) == sent
    deadline = time.monotonic() + 10
    while (
        "FailureDescription" in firehose.describe_delivery_stream(DeliveryStreamName=name)["DeliveryStreamDescription"]
    ):
        assert time.monotonic() < deadline, "the failure stayed after delivery recovered"
        time.sleep(0.1)
