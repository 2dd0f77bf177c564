from __future__ import annotations

import base64
from typing import Any

import cbor2
import orjson
import pytest

from emulator.aws.errors import InvalidArgumentException, SerializationException, ValidationException
from emulator.aws.protocol import CBOR, JSON, AwsTimestamp, codec_for
from emulator.kinesis.shapes import (
    CreateStreamInput,
    GetShardIteratorInput,
    ListShardsInput,
    PutRecordInput,
    PutRecordsInput,
    StreamInput,
)


def test_codec_is_chosen_by_content_type() -> None:
    assert codec_for("application/x-amz-json-1.1") is JSON
    assert codec_for("application/x-amz-cbor-1.1; charset=utf-8") is CBOR
    assert codec_for("text/plain") is None


def test_json_renders_blobs_as_base64_and_timestamps_as_epoch_seconds() -> None:
    body = orjson.loads(JSON.encode({"Data": b"\x00\x01", "T": AwsTimestamp(1_700_000_000_123)}))
    assert body == {"Data": "AAE=", "T": 1_700_000_000.123}


def test_cbor_renders_blobs_as_bytes_and_timestamps_as_tagged_millis() -> None:
    body = cbor2.loads(
        CBOR.encode({"Data": b"\x00\x01", "T": AwsTimestamp(1_700_000_000_123)}),
        semantic_decoders={1: lambda v, _i: ("t", v)},
    )
    assert body == {"Data": b"\x00\x01", "T": ("t", 1_700_000_000_123)}


def test_cbor_reads_tag_1_millis_and_plain_millis() -> None:
    decoded = CBOR.decode(cbor2.dumps({"a": cbor2.CBORTag(1, 1_700_000_000_123), "b": 1_700_000_000_456}))
    assert CBOR.timestamp_ms(decoded["a"], "a") == 1_700_000_000_123
    assert CBOR.timestamp_ms(decoded["b"], "b") == 1_700_000_000_456


def test_json_reads_epoch_seconds_and_iso_timestamps() -> None:
    assert JSON.timestamp_ms(1_700_000_000.5, "t") == 1_700_000_000_500
    assert JSON.timestamp_ms("2023-11-14T22:13:20.500Z", "t") == 1_700_000_000_500


@pytest.mark.parametrize("body", [b"{", b"[1]", b'"text"'])
def test_json_bodies_that_are_not_objects_are_serialization_errors(body: bytes) -> None:
    with pytest.raises(SerializationException):
        JSON.decode(body)


def put(**overrides: Any) -> dict[str, Any]:
    body = {"StreamName": "s", "Data": base64.b64encode(b"x").decode(), "PartitionKey": "k"}
    body.update(overrides)
    return body


def test_put_record_constraints() -> None:
    assert PutRecordInput.parse(put(), JSON).record.data == b"x"
    with pytest.raises(ValidationException, match="length less than or equal to 256"):
        PutRecordInput.parse(put(PartitionKey="k" * 257), JSON)
    with pytest.raises(ValidationException, match="partitionKey"):
        PutRecordInput.parse(put(PartitionKey=""), JSON)
    with pytest.raises(ValidationException, match="1048576"):
        PutRecordInput.parse(put(Data=base64.b64encode(b"x" * (1024 * 1024 + 1)).decode()), JSON)
    with pytest.raises(SerializationException, match="base64"):
        PutRecordInput.parse(put(Data="%%%"), JSON)
    with pytest.raises(InvalidArgumentException, match="ExplicitHashKey"):
        PutRecordInput.parse(put(ExplicitHashKey=str(2**128)), JSON)
    with pytest.raises(ValidationException, match="explicitHashKey"):
        PutRecordInput.parse(put(ExplicitHashKey="-1"), JSON)


def test_put_records_counts() -> None:
    record = {"Data": "eA==", "PartitionKey": "k"}
    assert len(PutRecordsInput.parse({"StreamName": "s", "Records": [record] * 500}, JSON).records) == 500
    with pytest.raises(ValidationException, match="less than or equal to 500"):
        PutRecordsInput.parse({"StreamName": "s", "Records": [record] * 501}, JSON)
    with pytest.raises(ValidationException, match="greater than or equal to 1"):
        PutRecordsInput.parse({"StreamName": "s", "Records": []}, JSON)


def test_stream_is_named_by_name_or_arn() -> None:
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders"
    assert StreamInput.parse({"StreamARN": arn}, JSON).stream == "orders"
    assert StreamInput.parse({"StreamName": "orders", "StreamARN": arn}, JSON).stream == "orders"
    with pytest.raises(InvalidArgumentException, match="different streams"):
        StreamInput.parse({"StreamName": "other", "StreamARN": arn}, JSON)
    with pytest.raises(InvalidArgumentException, match="Either StreamName or StreamARN"):
        StreamInput.parse({}, JSON)
    with pytest.raises(ValidationException, match="regular expression"):
        StreamInput.parse({"StreamName": "bad name"}, JSON)


def test_create_stream_shapes() -> None:
    assert CreateStreamInput.parse({"StreamName": "s", "ShardCount": 2}, JSON).shard_count == 2
    on_demand = CreateStreamInput.parse({"StreamName": "s", "StreamModeDetails": {"StreamMode": "ON_DEMAND"}}, JSON)
    assert on_demand.on_demand
    assert on_demand.shard_count == 4
    with pytest.raises(ValidationException, match="shardCount"):
        CreateStreamInput.parse({"StreamName": "s"}, JSON)
    with pytest.raises(SerializationException):
        CreateStreamInput.parse({"StreamName": "s", "ShardCount": True}, JSON)


def test_get_shard_iterator_argument_rules() -> None:
    base = {"StreamName": "s", "ShardId": "shardId-000000000000"}
    with pytest.raises(ValidationException, match="enum value set"):
        GetShardIteratorInput.parse({**base, "ShardIteratorType": "OLDEST"}, JSON)
    with pytest.raises(InvalidArgumentException, match="StartingSequenceNumber"):
        GetShardIteratorInput.parse({**base, "ShardIteratorType": "AFTER_SEQUENCE_NUMBER"}, JSON)
    with pytest.raises(InvalidArgumentException, match="should not contain"):
        GetShardIteratorInput.parse({**base, "ShardIteratorType": "LATEST", "StartingSequenceNumber": "1"}, JSON)
    parsed = GetShardIteratorInput.parse({**base, "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": 10.25}, JSON)
    assert parsed.timestamp_ms == 10_250


def test_list_shards_token_and_stream_are_exclusive() -> None:
    with pytest.raises(InvalidArgumentException):
        ListShardsInput.parse({"StreamName": "s", "NextToken": "t"}, JSON)
    with pytest.raises(InvalidArgumentException):
        ListShardsInput.parse({}, JSON)
