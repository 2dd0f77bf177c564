"""Numbers, timestamps and bodies that cannot be what a member says: AWS-shaped errors, never a Python exception
that would become a 500."""

from __future__ import annotations

import contextlib

import cbor2
import pytest
from hypothesis import given
from hypothesis import strategies as st

from emulator.aws.errors import AwsError, SerializationException, ValidationException
from emulator.aws.protocol import CBOR, JSON
from emulator.kinesis.shapes import GetShardIteratorInput, ListShardsInput, ListStreamsInput
from emulator.kinesis.tokens import first_shard_after

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("value", [NAN, INF, -INF, 1.5, True, "5", [5]])
def test_an_integer_member_that_is_no_integer_is_a_serialization_error(value: object) -> None:
    with pytest.raises(SerializationException):
        ListStreamsInput.parse({"Limit": value}, CBOR)


def test_integral_floats_are_integers_and_ranges_are_checked() -> None:
    assert ListStreamsInput.parse({"Limit": 5.0}, JSON).limit == 5
    for value in (0, 10_001, 2**70, -(2**70)):
        with pytest.raises(ValidationException):
            ListStreamsInput.parse({"Limit": value}, CBOR)


@pytest.mark.parametrize("value", [NAN, INF, -INF, 2**63, cbor2.CBORTag(1, NAN)])
def test_cbor_timestamps_must_be_finite_64_bit_milliseconds(value: object) -> None:
    decoded = CBOR.decode(cbor2.dumps({"Timestamp": value}))
    with pytest.raises(SerializationException):
        CBOR.timestamp_ms(decoded["Timestamp"], "timestamp")
    body = {"StreamName": "s", "ShardId": "0", "ShardIteratorType": "AT_TIMESTAMP", "Timestamp": decoded["Timestamp"]}
    with pytest.raises(SerializationException):
        GetShardIteratorInput.parse(body, CBOR)
    with pytest.raises(SerializationException):
        ListShardsInput.parse({"StreamName": "s", "ShardFilter": {"Type": "AT_TIMESTAMP", **decoded}}, CBOR)


@pytest.mark.parametrize("value", [1e300, 9.3e15, 10**400, "0001-01-01T00:00:00+25:00", "99999-01-01T00:00:00Z"])
def test_json_timestamps_beyond_any_date_are_serialization_errors(value: object) -> None:
    with pytest.raises(SerializationException):
        JSON.timestamp_ms(value, "timestamp")


def test_json_timestamps_before_1970_and_at_the_ends_of_the_calendar_are_read() -> None:
    assert JSON.timestamp_ms(-1, "t") == -1000
    assert JSON.timestamp_ms("1960-01-01T00:00:00Z", "t") == -315_619_200_000
    assert JSON.timestamp_ms("0001-01-01T00:00:00+23:59", "t") == -62_135_683_140_000
    assert JSON.timestamp_ms("9999-12-31T23:59:59-23:59", "t") == 253_402_387_139_000


@pytest.mark.parametrize("trailer", [b"\x00", b"\xff\xff", cbor2.dumps({"a": 1})])
def test_a_cbor_body_must_end_with_its_map(trailer: bytes) -> None:
    with pytest.raises(SerializationException, match="follow the end"):
        CBOR.decode(cbor2.dumps({"Limit": 1}) + trailer)


@given(st.binary(max_size=64))
def test_any_bytes_decode_to_a_map_or_a_serialization_error(body: bytes) -> None:
    for codec in (CBOR, JSON):
        with contextlib.suppress(SerializationException):
            assert isinstance(codec.decode(body), dict)


@given(st.recursive(st.none() | st.booleans() | st.floats() | st.integers() | st.text() | st.binary(), st.lists))
def test_timestamps_of_any_value_are_milliseconds_or_an_aws_error(value: object) -> None:
    for codec in (CBOR, JSON):
        with contextlib.suppress(AwsError):
            assert isinstance(codec.timestamp_ms(value, "t"), int)


def test_first_shard_after() -> None:
    assert first_shard_after(None, 3) == 0
    assert first_shard_after("shardId-000000000000", 3) == 1
    assert first_shard_after("1", 3) == 2
    assert first_shard_after("shardId-0000000000001", 3) == 2
    assert first_shard_after("shardId-000000000002", 3) == 3
    assert first_shard_after("shardId-" + "9" * 120, 3) == 3
    assert first_shard_after("zzz", 3) == 3
    assert first_shard_after("a", 3) == 0
    assert first_shard_after("shardId-00000000000x", 3) == 3  # 'x' sorts after every digit
    assert first_shard_after("shardId-٣", 3) == 3  # a non-ASCII digit is no index: compared as text
