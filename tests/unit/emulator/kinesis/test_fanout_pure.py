"""The pure parts of enhanced fan-out: event stream framing (botocore's decoder is the oracle), consumer ARNs, and
consumers kept in a stream's metadata record."""

from __future__ import annotations

import orjson
import pytest
from botocore.eventstream import EventStreamBuffer
from hypothesis import given
from hypothesis import strategies as st

from emulator.aws.errors import ValidationException
from emulator.aws.eventstream import encode_message, event, exception
from emulator.kinesis.consumer_shapes import parse_consumer_arn
from emulator.kinesis.streams import Stream
from producers.shard_map import ShardMap

JSON = "application/x-amz-json-1.1"
header_names = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), min_size=1, max_size=40)


@given(
    headers=st.dictionaries(header_names, st.text(max_size=300), max_size=5),
    payload=st.binary(max_size=5000),
)
def test_botocore_decodes_every_message_we_encode(headers: dict[str, str], payload: bytes) -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(encode_message(headers, payload))
    (message,) = list(buffer)
    assert (message.headers, message.payload) == (headers, payload)


def test_events_and_exceptions_are_what_botocore_turns_into_results_and_errors() -> None:
    buffer = EventStreamBuffer()
    buffer.add_data(event("SubscribeToShardEvent", b'{"Records":[]}', JSON))
    buffer.add_data(exception("ResourceInUseException", b'{"message":"taken"}', JSON))
    ok, failed = list(buffer)
    assert ok.to_response_dict()["status_code"] == 200
    assert ok.headers == {":event-type": "SubscribeToShardEvent", ":content-type": JSON, ":message-type": "event"}
    assert failed.to_response_dict()["status_code"] == 400
    assert failed.headers[":exception-type"] == "ResourceInUseException"


def test_a_header_too_long_for_the_format_is_refused_not_truncated() -> None:
    with pytest.raises(ValueError, match="too long"):
        encode_message({"x" * 256: "v"}, b"")
    with pytest.raises(ValueError, match="too long"):
        encode_message({"n": "v" * 70_000}, b"")


def test_consumer_arns_name_stream_consumer_and_creation() -> None:
    arn = "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app.v2:1796549886"
    named = parse_consumer_arn(arn)
    assert (named.stream, named.consumer, named.created_s) == ("orders", "app.v2", 1796549886)
    for bad in (
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders",
        "arn:aws:kinesis:us-east-1:000000000000:stream/orders/consumer/app",
        "arn:aws:kinesis:us-east-1:0:stream/orders/consumer/app:1",
        "arn:aws:kinesis:us-east-1:000000000000:stream/or ders/consumer/app:1",
    ):
        with pytest.raises(ValidationException):
            parse_consumer_arn(bad)


def test_consumers_round_trip_through_the_metadata_record_and_bad_ones_are_refused() -> None:
    stream = Stream("orders", ShardMap.uniform(2), "ACTIVE", 1_000, consumers={"app": 1_796_549_886_000})
    back = Stream.from_record("orders", orjson.loads(stream.to_record()))
    assert back.consumers == {"app": 1_796_549_886_000}
    assert Stream.from_record("old", {"shard_count": 1}).consumers == {}  # written before consumers existed
    for consumers in ({"bad name": 1}, {"app": "1"}, {"app": True}, ["app"]):
        with pytest.raises((TypeError, ValueError)):
            Stream.from_record("orders", {"consumers": consumers})
