"""Record identity as AWS shapes it (issue 16, item 3): 56-digit sequence numbers, AWS's sequence-number pattern on
input, iterators in standard base64, and shard ids resolved by their number."""

from __future__ import annotations

import base64
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.integration.kinesis.conftest import StreamFactory

#: A sequence number as AWS returns them (from AWS's documentation): 56 digits, not one of this server's.
AWS_SEQUENCE = "49590338271490256608559692538361571095921575989136588898"
STANDARD_BASE64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")


def code_of(call: Any) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    code: str = caught.value.response["Error"]["Code"]
    return code


def read_all(kinesis: Any, name: str, shard: str = "shardId-000000000000") -> list[dict[str, Any]]:
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
    records: list[dict[str, Any]] = kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]
    return records


def test_sequence_numbers_have_aws_56_digits_and_sort_within_a_shard(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    put = [kinesis.put_record(StreamName=name, Data=bytes([i]), PartitionKey="k")["SequenceNumber"] for i in range(12)]
    batch = kinesis.put_records(StreamName=name, Records=[{"Data": b"b", "PartitionKey": "k"}] * 3)["Records"]
    numbers = put + [entry["SequenceNumber"] for entry in batch]
    assert all(len(number) == 56 and number.isdecimal() and number[0] != "0" for number in numbers)
    # Ordered as numbers and as strings alike, since the width is fixed.
    assert numbers == sorted(numbers) == sorted(numbers, key=int)
    assert [record["SequenceNumber"] for record in read_all(kinesis, name)] == numbers
    starting = kinesis.describe_stream(StreamName=name)["StreamDescription"]["Shards"][0]["SequenceNumberRange"]
    assert len(starting["StartingSequenceNumber"]) == 56
    assert starting["StartingSequenceNumber"] <= numbers[0]


def test_a_sequence_number_positions_an_iterator(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    numbers = [
        kinesis.put_record(StreamName=name, Data=bytes([i]), PartitionKey="k")["SequenceNumber"] for i in range(5)
    ]
    for kind, expected in (("AT_SEQUENCE_NUMBER", [2, 3, 4]), ("AFTER_SEQUENCE_NUMBER", [3, 4])):
        iterator = kinesis.get_shard_iterator(
            StreamName=name, ShardId="shardId-000000000000", ShardIteratorType=kind, StartingSequenceNumber=numbers[2]
        )["ShardIterator"]
        assert [record["Data"][0] for record in kinesis.get_records(ShardIterator=iterator)["Records"]] == expected


def test_aws_shaped_sequence_numbers_pass_validation(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    # SequenceNumberForOrdering accepts any number of AWS's pattern, 56 digits included.
    first = kinesis.put_record(StreamName=name, Data=b"a", PartitionKey="k")["SequenceNumber"]
    second = kinesis.put_record(StreamName=name, Data=b"b", PartitionKey="k", SequenceNumberForOrdering=first)
    assert second["SequenceNumber"] > first
    kinesis.put_record(StreamName=name, Data=b"c", PartitionKey="k", SequenceNumberForOrdering=AWS_SEQUENCE)
    # A well-formed number that is not one of this stream's is an argument error, not a validation error.
    call = lambda: kinesis.get_shard_iterator(  # noqa: E731
        StreamName=name,
        ShardId="shardId-000000000000",
        ShardIteratorType="AT_SEQUENCE_NUMBER",
        StartingSequenceNumber=AWS_SEQUENCE,
    )
    assert code_of(call) == "InvalidArgumentException"
    longest = "1" + "0" * 128
    too_long = lambda: kinesis.put_record(  # noqa: E731
        StreamName=name, Data=b"d", PartitionKey="k", SequenceNumberForOrdering=longest + "0"
    )
    assert code_of(too_long) == "ValidationException"
    kinesis.put_record(StreamName=name, Data=b"d", PartitionKey="k", SequenceNumberForOrdering=longest)


def test_iterators_are_standard_base64_and_still_signed(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    kinesis.put_record(StreamName=name, Data=b"a", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(
        StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
    )["ShardIterator"]
    assert STANDARD_BASE64.fullmatch(iterator), iterator
    raw = base64.b64decode(iterator, validate=True)
    assert raw[:8] == b"\0\0\0\0\0\0\0\1"  # AWS's iterators open with the same eight bytes ("AAAAAAAAAAE...")
    response = kinesis.get_records(ShardIterator=iterator)
    assert STANDARD_BASE64.fullmatch(response["NextShardIterator"])
    # One bit changed anywhere is refused.
    tampered = bytearray(raw)
    tampered[20] ^= 1
    forged = base64.b64encode(bytes(tampered)).decode()
    assert code_of(lambda: kinesis.get_records(ShardIterator=forged)) == "InvalidArgumentException"


@pytest.mark.parametrize("given", ["shardId-000000000001", "shard-1", "anything-1", "1", "shardId-1", "a-b-0001"])
def test_shard_ids_resolve_by_their_number_as_aws_does(kinesis: Any, new_stream: StreamFactory, given: str) -> None:
    name = new_stream(shards=2)
    kinesis.put_record(StreamName=name, Data=b"one", PartitionKey="k", ExplicitHashKey=str(2**127))
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=given, ShardIteratorType="TRIM_HORIZON")
    assert [record["Data"] for record in kinesis.get_records(ShardIterator=iterator["ShardIterator"])["Records"]] == [
        b"one"
    ]


@pytest.mark.parametrize("given", ["shard-2", "shardId-000000000002", "shard-x", "shardId-", "nothing"])
def test_shard_ids_past_the_last_shard_or_without_a_number_are_not_found(
    kinesis: Any, new_stream: StreamFactory, given: str
) -> None:
    name = new_stream(shards=2)
    call = lambda: kinesis.get_shard_iterator(  # noqa: E731
        StreamName=name, ShardId=given, ShardIteratorType="TRIM_HORIZON"
    )
    assert code_of(call) == "ResourceNotFoundException"
