"""Every Kinesis operation through unchanged boto3 code, against the running endpoint and a real Kafka."""

from __future__ import annotations

import time
from typing import Any

import pytest
from botocore.exceptions import ClientError

from producers.partitioning import shard_for_partition_key, shard_hash_key_ranges, shard_id
from tests.integration.kinesis.conftest import StreamFactory
from tests.support.kinesis_server import wait_active


def error_code(excinfo: pytest.ExceptionInfo[ClientError]) -> str:
    return str(excinfo.value.response["Error"]["Code"])


def read_all(kinesis: Any, name: str, shard: str, iterator_type: str = "TRIM_HORIZON", **kwargs: Any) -> list[Any]:
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType=iterator_type, **kwargs)[
        "ShardIterator"
    ]
    records: list[Any] = []
    while True:
        response = kinesis.get_records(ShardIterator=iterator)
        records.extend(response["Records"])
        iterator = response["NextShardIterator"]
        if not response["Records"] and response["MillisBehindLatest"] == 0:
            return records


def test_stream_lifecycle_creating_active_describe_delete(kinesis: Any, stream_name: Any) -> None:
    name = stream_name()
    kinesis.create_stream(StreamName=name, ShardCount=3)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] == "CREATING"
    description = wait_active(kinesis, name)

    ranges = shard_hash_key_ranges(3)
    assert [shard["ShardId"] for shard in description["Shards"]] == [shard_id(i) for i in range(3)]
    assert [
        (int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"]))
        for s in description["Shards"]
    ] == [tuple(r) for r in ranges]
    assert description["StreamARN"] == f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}"
    assert description["RetentionPeriodHours"] == 24
    assert description["HasMoreShards"] is False

    summary = kinesis.describe_stream_summary(StreamARN=description["StreamARN"])["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3
    assert summary["StreamName"] == name
    assert name in kinesis.list_streams(Limit=10_000)["StreamNames"]

    page = kinesis.describe_stream(StreamName=name, Limit=2)["StreamDescription"]
    assert [s["ShardId"] for s in page["Shards"]] == [shard_id(0), shard_id(1)]
    assert page["HasMoreShards"]
    rest = kinesis.describe_stream(StreamName=name, ExclusiveStartShardId=shard_id(1))["StreamDescription"]
    assert [s["ShardId"] for s in rest["Shards"]] == [shard_id(2)]

    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName=name, ShardCount=1)
    assert error_code(excinfo) == "ResourceInUseException"

    kinesis.delete_stream(StreamARN=description["StreamARN"])
    deadline = time.monotonic() + 20
    statuses: list[str] = []
    while True:
        try:
            statuses.append(kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"])
        except ClientError as exc:
            statuses.append(exc.response["Error"]["Code"])
            break
        assert time.monotonic() < deadline
        time.sleep(0.05)
    assert set(statuses[:-1]) <= {"DELETING"}
    assert statuses[-1] == "ResourceNotFoundException"
    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k")
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_create_stream_errors(kinesis: Any) -> None:
    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName="not a valid name!", ShardCount=1)
    assert error_code(excinfo) == "ValidationException"
    assert "regular expression pattern" in excinfo.value.response["Error"]["Message"]

    with pytest.raises(ClientError) as excinfo:
        kinesis.create_stream(StreamName="too-many-shards", ShardCount=100_000)
    assert error_code(excinfo) == "LimitExceededException"

    with pytest.raises(ClientError) as excinfo:
        kinesis.describe_stream(StreamName="no-such-stream-kemu")
    assert error_code(excinfo) == "ResourceNotFoundException"


def test_put_record_routes_by_partitioning_and_reads_back(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=4)
    keys = [f"user-{i}" for i in range(40)]
    sequence_by_key: dict[str, str] = {}
    for key in keys:
        response = kinesis.put_record(StreamName=name, Data=key.encode(), PartitionKey=key)
        assert response["ShardId"] == shard_id(shard_for_partition_key(key, 4))
        sequence_by_key[key] = response["SequenceNumber"]

    explicit = kinesis.put_record(StreamName=name, Data=b"explicit", PartitionKey="any", ExplicitHashKey="0")
    assert explicit["ShardId"] == shard_id(0)

    for shard in range(4):
        records = read_all(kinesis, name, shard_id(shard))
        expected = [key for key in keys if shard_for_partition_key(key, 4) == shard]
        data = [record["Data"].decode() for record in records if record["Data"] != b"explicit"]
        assert data == expected  # per-shard order is put order
        for record in records:
            assert record["PartitionKey"] == ("any" if record["Data"] == b"explicit" else record["Data"].decode())
        sequences = [record["SequenceNumber"] for record in records]
        assert sequences == sorted(sequences, key=int)
        assert all(
            sequence_by_key[r["PartitionKey"]] == r["SequenceNumber"] for r in records if r["Data"] != b"explicit"
        )


def test_iterator_types(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=1)
    shard = shard_id(0)
    first = [kinesis.put_record(StreamName=name, Data=f"a{i}".encode(), PartitionKey="k") for i in range(5)]
    latest = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="LATEST")["ShardIterator"]
    time.sleep(0.05)
    boundary = time.time()
    time.sleep(0.05)
    second = [kinesis.put_record(StreamName=name, Data=f"b{i}".encode(), PartitionKey="k") for i in range(3)]

    assert [r["Data"] for r in read_all(kinesis, name, shard)] == [f"a{i}".encode() for i in range(5)] + [
        f"b{i}".encode() for i in range(3)
    ]
    assert [r["Data"] for r in kinesis.get_records(ShardIterator=latest)["Records"]] == [b"b0", b"b1", b"b2"]
    at = read_all(kinesis, name, shard, "AT_SEQUENCE_NUMBER", StartingSequenceNumber=first[3]["SequenceNumber"])
    assert [r["Data"] for r in at][:2] == [b"a3", b"a4"]
    after = read_all(kinesis, name, shard, "AFTER_SEQUENCE_NUMBER", StartingSequenceNumber=first[3]["SequenceNumber"])
    assert next(r["Data"] for r in after) == b"a4"
    at_time = read_all(kinesis, name, shard, "AT_TIMESTAMP", Timestamp=boundary)
    assert [r["Data"] for r in at_time] == [b"b0", b"b1", b"b2"]
    assert at_time[0]["SequenceNumber"] == second[0]["SequenceNumber"]
    assert abs(at_time[0]["ApproximateArrivalTimestamp"].timestamp() - boundary) < 5


def test_get_shard_iterator_errors(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=2)
    other = kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k", ExplicitHashKey="0")["SequenceNumber"]
    cases = [
        ({"ShardId": shard_id(7), "ShardIteratorType": "LATEST"}, "ResourceNotFoundException"),
        ({"ShardId": shard_id(0), "ShardIteratorType": "AT_SEQUENCE_NUMBER"}, "InvalidArgumentException"),
        (
            {"ShardId": shard_id(1), "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": other},
            "InvalidArgumentException",
        ),
        (
            {"ShardId": shard_id(0), "ShardIteratorType": "AT_SEQUENCE_NUMBER", "StartingSequenceNumber": "12345"},
            "InvalidArgumentException",
        ),
        ({"ShardId": shard_id(0), "ShardIteratorType": "AT_TIMESTAMP"}, "InvalidArgumentException"),
    ]
    for arguments, expected in cases:
        with pytest.raises(ClientError) as excinfo:
            kinesis.get_shard_iterator(StreamName=name, **arguments)
        assert error_code(excinfo) == expected, arguments
    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator="AAAAnot-an-iterator")
    assert error_code(excinfo) == "InvalidArgumentException"


def test_millis_behind_latest_is_true_to_the_data(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=1)
    kinesis.put_record(StreamName=name, Data=b"old", PartitionKey="k")
    time.sleep(0.6)
    kinesis.put_record(StreamName=name, Data=b"new", PartitionKey="k")
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    first = kinesis.get_records(ShardIterator=iterator, Limit=1)
    assert [r["Data"] for r in first["Records"]] == [b"old"]
    assert 500 <= first["MillisBehindLatest"] < 10_000
    second = kinesis.get_records(ShardIterator=first["NextShardIterator"], Limit=1)
    assert [r["Data"] for r in second["Records"]] == [b"new"]
    assert second["MillisBehindLatest"] == 0
    empty = kinesis.get_records(ShardIterator=second["NextShardIterator"])
    assert empty["Records"] == []
    assert empty["MillisBehindLatest"] == 0


def test_put_records_batch_and_limits(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=2)
    batch = [{"Data": f"r{i}".encode(), "PartitionKey": f"k{i}"} for i in range(500)]
    response = kinesis.put_records(StreamName=name, Records=batch)
    assert response["FailedRecordCount"] == 0
    assert len(response["Records"]) == 500
    for i, entry in enumerate(response["Records"]):
        assert entry["ShardId"] == shard_id(shard_for_partition_key(f"k{i}", 2))
    assert sum(len(read_all(kinesis, name, shard_id(s))) for s in range(2)) == 500

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_records(StreamName=name, Records=[*batch, {"Data": b"x", "PartitionKey": "x"}])
    assert error_code(excinfo) == "ValidationException"

    big = b"x" * (11 * 1024)
    with pytest.raises(ClientError) as excinfo:  # 500 x 11 KiB is over the 5 MiB request limit
        kinesis.put_records(StreamName=name, Records=[{"Data": big, "PartitionKey": "k"}] * 500)
    assert error_code(excinfo) == "InvalidArgumentException"

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024 + 1), PartitionKey="k")
    assert error_code(excinfo) == "ValidationException"

    with pytest.raises(ClientError) as excinfo:  # data at the limit plus its key is over 1 MiB
        kinesis.put_record(StreamName=name, Data=b"x" * (1024 * 1024), PartitionKey="key")
    assert error_code(excinfo) == "InvalidArgumentException"

    mixed = kinesis.put_records(
        StreamName=name,
        Records=[
            {"Data": b"fine", "PartitionKey": "a"},
            {"Data": b"x" * (1024 * 1024), "PartitionKey": "too-big-with-key"},
            {"Data": b"fine too", "PartitionKey": "b"},
        ],
    )
    assert mixed["FailedRecordCount"] == 1
    assert mixed["Records"][1]["ErrorCode"] == "InvalidArgumentException"
    assert "SequenceNumber" in mixed["Records"][0]
    assert "SequenceNumber" in mixed["Records"][2]

    with pytest.raises(ClientError) as excinfo:
        kinesis.put_record(StreamName=name, Data=b"x", PartitionKey="k" * 257)
    assert error_code(excinfo) == "ValidationException"


def test_get_records_limit_and_10_mib_cap(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=1)
    megabyte = b"m" * (1024 * 1024 - 16)
    for i in range(11):
        kinesis.put_record(StreamName=name, Data=megabyte, PartitionKey=f"k{i}")
    kinesis.put_records(StreamName=name, Records=[{"Data": b"s", "PartitionKey": "s"}] * 5)
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    limited = kinesis.get_records(ShardIterator=iterator, Limit=3)
    assert len(limited["Records"]) == 3
    capped = kinesis.get_records(ShardIterator=limited["NextShardIterator"])
    size = sum(len(r["Data"]) + len(r["PartitionKey"]) for r in capped["Records"])
    assert size <= 10 * 1024 * 1024
    assert len(capped["Records"]) < 13
    assert capped["MillisBehindLatest"] >= 0
    rest = read_all(
        kinesis,
        name,
        shard_id(0),
        "AFTER_SEQUENCE_NUMBER",
        StartingSequenceNumber=capped["Records"][-1]["SequenceNumber"],
    )
    assert len(limited["Records"]) + len(capped["Records"]) + len(rest) == 16

    with pytest.raises(ClientError) as excinfo:
        kinesis.get_records(ShardIterator=iterator, Limit=10_001)
    assert error_code(excinfo) == "ValidationException"


def test_retention_period(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=1)
    kinesis.increase_stream_retention_period(StreamName=name, RetentionPeriodHours=72)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["RetentionPeriodHours"] == 72
    kinesis.decrease_stream_retention_period(StreamName=name, RetentionPeriodHours=48)
    assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["RetentionPeriodHours"] == 48
    for call, hours in [
        (kinesis.increase_stream_retention_period, 24),
        (kinesis.decrease_stream_retention_period, 72),
        (kinesis.decrease_stream_retention_period, 12),
        (kinesis.increase_stream_retention_period, 9000),
    ]:
        with pytest.raises(ClientError) as excinfo:
            call(StreamName=name, RetentionPeriodHours=hours)
        assert error_code(excinfo) == "InvalidArgumentException", (call, hours)


def test_tags(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=1)
    kinesis.add_tags_to_stream(StreamName=name, Tags={"team": "data", "env": "dev", "cost": "42"})
    tags = kinesis.list_tags_for_stream(StreamName=name)
    assert tags["Tags"] == [
        {"Key": "cost", "Value": "42"},
        {"Key": "env", "Value": "dev"},
        {"Key": "team", "Value": "data"},
    ]
    page = kinesis.list_tags_for_stream(StreamName=name, Limit=1, ExclusiveStartTagKey="cost")
    assert page["Tags"] == [{"Key": "env", "Value": "dev"}]
    assert page["HasMoreTags"] is True
    kinesis.remove_tags_from_stream(StreamName=name, TagKeys=["env", "absent"])
    assert [t["Key"] for t in kinesis.list_tags_for_stream(StreamName=name)["Tags"]] == ["cost", "team"]
    with pytest.raises(ClientError) as excinfo:
        kinesis.add_tags_to_stream(StreamName=name, Tags={f"k{i}": "v" for i in range(49)})
    assert error_code(excinfo) == "LimitExceededException"


def test_list_streams_and_list_shards_paginate(kinesis: Any, new_stream: StreamFactory, stream_name: Any) -> None:
    base = stream_name()
    names = [new_stream(shards=3, name=f"{base}-a"), new_stream(shards=3, name=f"{base}-b")]
    first = kinesis.list_streams(Limit=1, ExclusiveStartStreamName=base)
    assert first["StreamNames"] == [names[0]]
    assert first["HasMoreStreams"] is True
    following = kinesis.list_streams(NextToken=first["NextToken"], Limit=1)
    assert following["StreamNames"] == [names[1]]
    assert following["StreamSummaries"][0]["StreamStatus"] == "ACTIVE"

    shards = kinesis.list_shards(StreamName=names[0], MaxResults=2)
    assert [s["ShardId"] for s in shards["Shards"]] == [shard_id(0), shard_id(1)]
    more = kinesis.list_shards(NextToken=shards["NextToken"])
    assert [s["ShardId"] for s in more["Shards"]] == [shard_id(2)]
    assert "NextToken" not in more
    after = kinesis.list_shards(StreamName=names[0], ShardFilter={"Type": "AFTER_SHARD_ID", "ShardId": shard_id(0)})
    assert [s["ShardId"] for s in after["Shards"]] == [shard_id(1), shard_id(2)]
    with pytest.raises(ClientError) as excinfo:
        kinesis.list_shards(StreamName=names[0], NextToken=shards["NextToken"])
    assert error_code(excinfo) == "InvalidArgumentException"


def test_unsupported_operation_says_so(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=1)
    with pytest.raises(ClientError) as excinfo:
        kinesis.start_stream_encryption(StreamName=name, EncryptionType="KMS", KeyId="alias/aws/kinesis")
    assert error_code(excinfo) == "UnsupportedOperationException"
    assert "StartStreamEncryption is not supported" in excinfo.value.response["Error"]["Message"]
