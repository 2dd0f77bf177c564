"""Parsing Firehose requests (no services): constraints, the S3 destination, and PutRecordBatch's responses."""

from __future__ import annotations

from typing import Any

import pytest

from emulator.aws.errors import InvalidArgumentException, SerializationException, ValidationException
from emulator.aws.protocol import CBOR, JSON
from emulator.firehose.service import batch_responses, record_id
from emulator.firehose.shapes import CreateDeliveryStreamInput, PutRecordBatchInput, PutRecordInput
from sinks import Compression


def create(**body: Any) -> CreateDeliveryStreamInput:
    body.setdefault("DeliveryStreamName", "orders")
    body.setdefault("ExtendedS3DestinationConfiguration", {"BucketARN": "arn:aws:s3:::kemu"})
    return CreateDeliveryStreamInput.parse(body, JSON)


def test_defaults_follow_firehose() -> None:
    parsed = create()
    assert parsed.stream_type == "DirectPut"
    assert parsed.destination.bucket == "kemu"
    assert (parsed.destination.buffering.size_mib, parsed.destination.buffering.interval_s) == (5, 300)
    assert parsed.destination.compression_format == "UNCOMPRESSED"
    assert parsed.destination.sink_compression is Compression.NONE


def test_parquet_serde_compression_wins() -> None:
    conversion = {"Enabled": True, "OutputFormatConfiguration": {"Serializer": {"ParquetSerDe": {}}}}
    parsed = create(
        ExtendedS3DestinationConfiguration={
            "BucketARN": "arn:aws:s3:::kemu",
            "BufferingHints": {"SizeInMBs": 1, "IntervalInSeconds": 0},
            "DataFormatConversionConfiguration": conversion,
        }
    )
    assert parsed.destination.parquet_compression == "SNAPPY"
    assert parsed.destination.sink_compression is Compression.SNAPPY
    assert parsed.destination.buffering.interval_s == 0
    record = parsed.destination.to_record()
    assert type(parsed.destination).from_record(record) == parsed.destination


def test_kinesis_source_takes_the_stream_from_the_arn() -> None:
    parsed = create(
        DeliveryStreamType="KinesisStreamAsSource",
        KinesisStreamSourceConfiguration={"KinesisStreamARN": "arn:aws:kinesis:us-east-1:000000000000:stream/clicks"},
    )
    assert parsed.source_stream == "clicks"


@pytest.mark.parametrize(
    ("body", "error"),
    [
        ({"DeliveryStreamName": "a/b"}, ValidationException),
        ({"DeliveryStreamName": "x" * 65}, ValidationException),
        ({"DeliveryStreamName": 5}, SerializationException),
        ({"DeliveryStreamType": "MSKAsSource"}, InvalidArgumentException),
        ({"DeliveryStreamType": "KinesisStreamAsSource"}, InvalidArgumentException),
        ({"ExtendedS3DestinationConfiguration": {"BucketARN": "kemu"}}, ValidationException),
        ({"ExtendedS3DestinationConfiguration": {"BucketARN": "arn:aws:s3:::kemu", "CompressionFormat": "GZIP"}},
         InvalidArgumentException),
        ({"ExtendedS3DestinationConfiguration": {"BucketARN": "arn:aws:s3:::kemu",
                                                 "BufferingHints": {"IntervalInSeconds": 901}}}, ValidationException),
        ({"SplunkDestinationConfiguration": {}}, InvalidArgumentException),
    ],
)  # fmt: skip
def test_bad_requests(body: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        create(**body)


def test_record_limits() -> None:
    assert PutRecordInput.parse({"DeliveryStreamName": "s", "Record": {"Data": b"x" * 1_024_000}}, CBOR).data
    with pytest.raises(ValidationException):
        PutRecordInput.parse({"DeliveryStreamName": "s", "Record": {"Data": b"x" * 1_024_001}}, CBOR)
    with pytest.raises(ValidationException):
        PutRecordBatchInput.parse({"DeliveryStreamName": "s", "Records": [{"Data": b""}] * 501}, CBOR)
    with pytest.raises(InvalidArgumentException, match="4 MiB"):
        PutRecordBatchInput.parse({"DeliveryStreamName": "s", "Records": [{"Data": b"x" * 1_000_000}] * 5}, CBOR)


def test_batch_responses_report_failures_per_record() -> None:
    failed, responses = batch_responses([7, TimeoutError("broker away"), 8], partition=0)
    assert failed == 1
    assert responses[0] == {"RecordId": record_id(0, 7)}
    assert responses[1]["ErrorCode"] == "ServiceUnavailableException"
    assert "broker away" in responses[1]["ErrorMessage"]
    assert responses[2] == {"RecordId": record_id(0, 8)}
    assert record_id(0, 7) != record_id(1, 7)
