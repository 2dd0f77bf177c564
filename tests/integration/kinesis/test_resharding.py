"""SplitShard, MergeShards and UpdateShardCount with boto3 against a real server and Kafka: the lineage AWS shows,
writes following the open shards, reads following parents then children, and the shard map surviving a restart."""

from __future__ import annotations

import base64
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

import orjson
import pytest
from botocore.exceptions import ClientError

from emulator.kinesis import KinesisSettings
from emulator.kinesis.streams import read_shard_map
from producers.partitioning import MAX_HASH_KEY, hash_key_of, shard_hash_key_ranges, shard_id
from tests.integration.kinesis.conftest import StreamFactory
from tests.support.kinesis_server import kinesis_client, serve_kinesis, wait_active

KEYS = [f"user-{i}" for i in range(24)]


def put_batch(kinesis: Any, name: str, batch: str, per_key: int = 3) -> list[tuple[str, bytes, dict[str, Any]]]:
    """``per_key`` records for every key, keys interleaved; returns (key, data, PutRecords entry) in write order."""
    records = [{"Data": f"{batch}-{key}-{n}".encode(), "PartitionKey": key} for n in range(per_key) for key in KEYS]
    response = kinesis.put_records(StreamName=name, Records=records)
    assert response["FailedRecordCount"] == 0
    return [
        (record["PartitionKey"], record["Data"], entry)
        for record, entry in zip(records, response["Records"], strict=True)
    ]


def list_all(kinesis: Any, name: str, **kwargs: Any) -> list[dict[str, Any]]:
    shards: list[dict[str, Any]] = []
    response = kinesis.list_shards(StreamName=name, MaxResults=2, **kwargs)
    shards.extend(response["Shards"])
    while "NextToken" in response:
        response = kinesis.list_shards(NextToken=response["NextToken"], MaxResults=2)
        shards.extend(response["Shards"])
    return shards


def read_shard(kinesis: Any, name: str, shard: str) -> tuple[list[dict[str, Any]], list[dict[str, Any]] | None]:
    """Every record of ``shard`` from its start; the ChildShards when it is closed and was read to its end."""
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON")[
        "ShardIterator"
    ]
    records: list[dict[str, Any]] = []
    while True:
        response = kinesis.get_records(ShardIterator=iterator, Limit=7)
        records.extend(response["Records"])
        if response.get("NextShardIterator") is None:
            return records, response["ChildShards"]
        if not response["Records"] and response["MillisBehindLatest"] == 0:
            return records, None  # an open shard, read to its tip
        iterator = response["NextShardIterator"]


def read_following_lineage(kinesis: Any, name: str) -> list[dict[str, Any]]:
    """What a KCL-like reader sees: the shards open at the trim horizon first, each child once all its parents are
    read to their end."""
    shards = {shard["ShardId"]: shard for shard in list_all(kinesis, name)}
    ready = [shard["ShardId"] for shard in list_all(kinesis, name, ShardFilter={"Type": "AT_TRIM_HORIZON"})]
    finished: set[str] = set()
    seen: list[dict[str, Any]] = []
    while ready:
        current = ready.pop(0)
        records, children = read_shard(kinesis, name, current)
        seen.extend(records)
        finished.add(current)
        if children is None:
            assert "EndingSequenceNumber" not in shards[current]["SequenceNumberRange"]
            continue
        assert "EndingSequenceNumber" in shards[current]["SequenceNumberRange"]
        for child in children:
            parents = child["ParentShards"]
            assert current in parents
            if child["ShardId"] not in ready and child["ShardId"] not in finished and set(parents) <= finished:
                ready.append(child["ShardId"])
    return seen


def assert_each_once_in_order(seen: list[dict[str, Any]], written: list[tuple[str, bytes, dict[str, Any]]]) -> None:
    assert sorted(record["Data"] for record in seen) == sorted(data for _, data, _ in written)
    by_key: dict[str, list[bytes]] = defaultdict(list)
    for record in seen:
        by_key[record["PartitionKey"]].append(record["Data"])
    expected: dict[str, list[bytes]] = defaultdict(list)
    for key, data, _ in written:
        expected[key].append(data)
    assert by_key == expected


def test_split_then_merge_then_scale_keeps_every_record_once_and_in_order_per_key(
    kinesis: Any, new_stream: StreamFactory
) -> None:
    name = new_stream(2)
    written = put_batch(kinesis, name, "before-split")
    first = kinesis.list_shards(StreamName=name)["Shards"][0]
    middle = (int(first["HashKeyRange"]["StartingHashKey"]) + int(first["HashKeyRange"]["EndingHashKey"])) // 2
    assert kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(middle))
    description = wait_active(kinesis, name)

    shards = {shard["ShardId"]: shard for shard in description["Shards"]}
    assert list(shards) == [shard_id(i) for i in range(4)]
    parent = shards[shard_id(0)]
    assert "EndingSequenceNumber" in parent["SequenceNumberRange"]
    last_in_parent = max(int(e["SequenceNumber"]) for _, _, e in written if e["ShardId"] == shard_id(0))
    assert int(parent["SequenceNumberRange"]["EndingSequenceNumber"]) == last_in_parent
    for child, (start, end) in zip(
        (2, 3), [(0, middle - 1), (middle, int(first["HashKeyRange"]["EndingHashKey"]))], strict=False
    ):
        assert shards[shard_id(child)]["ParentShardId"] == shard_id(0)
        assert "AdjacentParentShardId" not in shards[shard_id(child)]
        assert shards[shard_id(child)]["HashKeyRange"] == {"StartingHashKey": str(start), "EndingHashKey": str(end)}
    summary = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]
    assert summary["OpenShardCount"] == 3

    after_split = put_batch(kinesis, name, "after-split")
    for key, _, entry in after_split:  # writes go to the open shard holding the key's hash
        assert entry["ShardId"] != shard_id(0)
        if hash_key_of(key) <= int(first["HashKeyRange"]["EndingHashKey"]):
            assert entry["ShardId"] == (shard_id(2) if hash_key_of(key) < middle else shard_id(3))
    written += after_split
    assert_each_once_in_order(read_following_lineage(kinesis, name), written)

    kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(3), AdjacentShardToMerge=shard_id(1))
    wait_active(kinesis, name)
    merged = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [shard["ShardId"] for shard in merged] == [shard_id(2), shard_id(4)]
    assert merged[1]["ParentShardId"] == shard_id(3)
    assert merged[1]["AdjacentParentShardId"] == shard_id(1)
    assert merged[1]["HashKeyRange"] == {"StartingHashKey": str(middle), "EndingHashKey": str(MAX_HASH_KEY)}
    written += put_batch(kinesis, name, "after-merge")

    response = kinesis.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    assert response["CurrentShardCount"] == 2
    assert response["TargetShardCount"] == 3
    assert response["StreamName"] == name
    wait_active(kinesis, name)
    scaled = kinesis.list_shards(StreamName=name, ShardFilter={"Type": "AT_LATEST"})["Shards"]
    assert [shard["ShardId"] for shard in scaled] == [shard_id(i) for i in (5, 6, 7)]
    assert [(int(s["HashKeyRange"]["StartingHashKey"]), int(s["HashKeyRange"]["EndingHashKey"])) for s in scaled] == [
        tuple(r) for r in shard_hash_key_ranges(3)
    ]
    written += put_batch(kinesis, name, "after-scaling")
    assert_each_once_in_order(read_following_lineage(kinesis, name), written)


def test_shard_filters_follow_the_lineage(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(2)
    kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(2**127 + 2**100))
    wait_active(kinesis, name)

    def ids(**shard_filter: Any) -> list[str]:
        return [shard["ShardId"] for shard in list_all(kinesis, name, ShardFilter=shard_filter)]

    assert ids(Type="AT_LATEST") == [shard_id(0), shard_id(2), shard_id(3)]
    assert ids(Type="AT_TRIM_HORIZON") == [shard_id(0), shard_id(1)]
    assert ids(Type="FROM_TRIM_HORIZON") == [shard_id(i) for i in range(4)]
    assert ids(Type="AFTER_SHARD_ID", ShardId=shard_id(1)) == [shard_id(2), shard_id(3)]
    created = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamCreationTimestamp"]
    assert ids(Type="AT_TIMESTAMP", Timestamp=created) == [shard_id(0), shard_id(1)]
    assert ids(Type="FROM_TIMESTAMP", Timestamp=created) == [shard_id(i) for i in range(4)]


def test_a_closed_shard_ends_with_child_shards_for_an_iterator_at_its_end(
    kinesis: Any, new_stream: StreamFactory
) -> None:
    name = new_stream(1)
    kinesis.put_record(StreamName=name, Data=b"only", PartitionKey="k")
    kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(2**127))
    wait_active(kinesis, name)
    iterator = kinesis.get_shard_iterator(StreamName=name, ShardId=shard_id(0), ShardIteratorType="LATEST")
    response = kinesis.get_records(ShardIterator=iterator["ShardIterator"])
    assert response["Records"] == []
    assert "NextShardIterator" not in response
    assert [child["ShardId"] for child in response["ChildShards"]] == [shard_id(1), shard_id(2)]
    assert all(child["ParentShards"] == [shard_id(0)] for child in response["ChildShards"])


def error_of(call: Callable[..., Any], **kwargs: Any) -> tuple[str, str]:
    with pytest.raises(ClientError) as caught:
        call(**kwargs)
    error = caught.value.response["Error"]
    return error["Code"], error["Message"]


def test_resharding_refusals_in_aws_terms(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(3)
    code, message = error_of(kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey="1")
    assert code == "InvalidArgumentException"
    assert "is not both greater than one plus the shard's StartingHashKey 0" in message
    code, message = error_of(kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(9), NewStartingHashKey="9")
    assert (code, message) == (
        "ResourceNotFoundException",
        f"Could not find shard {shard_id(9)} in stream {name} under account 000000000000.",
    )
    code, message = error_of(
        kinesis.merge_shards, StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(2)
    )
    assert code == "InvalidArgumentException"
    assert "not an adjacent pair of shards eligible for merging" in message
    for target in (7, 1):
        code, message = error_of(
            kinesis.update_shard_count, StreamName=name, TargetShardCount=target, ScalingType="UNIFORM_SCALING"
        )
        assert code == "InvalidArgumentException"
        assert ("double" if target == 7 else "half") in message
    code, _ = error_of(kinesis.update_shard_count, StreamName=name, TargetShardCount=3, ScalingType="OTHER")
    assert code == "ValidationException"
    same = kinesis.update_shard_count(StreamName=name, TargetShardCount=3, ScalingType="UNIFORM_SCALING")
    assert (same["CurrentShardCount"], same["TargetShardCount"]) == (3, 3)
    assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"] == "ACTIVE"  # no reshard

    kinesis.merge_shards(StreamName=name, ShardToMerge=shard_id(0), AdjacentShardToMerge=shard_id(1))
    wait_active(kinesis, name)
    code, message = error_of(kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey="99")
    assert code == "InvalidArgumentException"
    assert message.endswith("has already been merged or split, and thus is not eligible for splitting.")
    code, message = error_of(
        kinesis.merge_shards, StreamName=name, ShardToMerge=shard_id(3), AdjacentShardToMerge=shard_id(1)
    )
    assert message.endswith("has already been merged or split, and thus is not eligible for merging.")


def test_the_stream_is_updating_until_the_reshard_completes_and_the_map_survives_a_restart(
    kafka_bootstrap: str,
) -> None:
    settings = KinesisSettings(create_delay_s=2, metadata_topic=f"reshard-test-{uuid.uuid4().hex[:8]}")
    name = f"ks-reshard-restart-{uuid.uuid4().hex[:6]}"
    with serve_kinesis(settings, kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        kinesis.create_stream(StreamName=name, ShardCount=2)
        wait_active(kinesis, name)
        kinesis.update_shard_count(StreamName=name, TargetShardCount=4, ScalingType="UNIFORM_SCALING")
        # The stream stays UPDATING for at least create_delay_s after the call: another reshard is refused.
        code, message = error_of(kinesis.split_shard, StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey="9")
        assert code == "ResourceInUseException"
        assert message == f"Stream {name} under account 000000000000 not ACTIVE, instead in state UPDATING"
        assert kinesis.describe_stream(StreamName=name)["StreamDescription"]["StreamStatus"] == "UPDATING"
        before = wait_active(kinesis, name)["Shards"]
        assert len(before) == 6
        written = put_batch(kinesis, name, "before-restart", per_key=1)
    with serve_kinesis(settings, kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        try:
            after = wait_active(kinesis, name)["Shards"]
            assert after == before
            after_restart = put_batch(kinesis, name, "after-restart", per_key=1)
            assert {entry["ShardId"] for _, _, entry in after_restart} <= {shard_id(i) for i in range(2, 6)}
            written += after_restart
            assert_each_once_in_order(read_following_lineage(kinesis, name), written)
        finally:
            kinesis.delete_stream(StreamName=name)


def test_subscribe_to_a_closed_shard_ends_its_event_stream_with_child_shards(
    kinesis: Any, new_stream: StreamFactory
) -> None:
    name = new_stream(1)
    sent = [f"r{i}".encode() for i in range(5)]
    kinesis.put_records(StreamName=name, Records=[{"Data": data, "PartitionKey": "k"} for data in sent])
    kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(0), NewStartingHashKey=str(2**127))
    wait_active(kinesis, name)
    arn = kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"]
    consumer = kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="follower")["Consumer"]["ConsumerARN"]
    response = kinesis.subscribe_to_shard(
        ConsumerARN=consumer, ShardId=shard_id(0), StartingPosition={"Type": "TRIM_HORIZON"}
    )
    stream = response["EventStream"]
    try:
        events = [event["SubscribeToShardEvent"] for event in stream]  # ends by itself at the shard's end
    finally:
        stream.close()
    assert [record["Data"] for event in events for record in event["Records"]] == sent
    last = events[-1]
    assert last.get("ContinuationSequenceNumber") is None
    assert [child["ShardId"] for child in last["ChildShards"]] == [shard_id(1), shard_id(2)]
    assert all("ChildShards" not in event for event in events[:-1])


def test_a_forged_filter_in_a_next_token_is_refused(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(1)
    for forged in ({"filter": "EVERYTHING"}, {"filter": "AT_TIMESTAMP", "at": "yesterday"}):
        token = base64.urlsafe_b64encode(orjson.dumps({"name": name, "after": shard_id(0), **forged})).decode()
        code, _ = error_of(kinesis.list_shards, NextToken=token)
        assert code == "InvalidArgumentException"


def test_writes_during_a_split_are_each_read_once_in_order_per_key(kinesis: Any, new_stream: StreamFactory) -> None:
    import threading

    name = new_stream(2)
    written: list[tuple[str, bytes, dict[str, Any]]] = []
    stop = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        batch = 0
        try:
            while not stop.is_set() or batch < 5:
                written.extend(put_batch(kinesis, name, f"live-{batch}", per_key=1))
                batch += 1
        except BaseException as exc:  # surfaced by the assertion below
            failures.append(exc)

    writer = threading.Thread(target=write)
    writer.start()
    try:
        while len(written) < 2 * len(KEYS):  # writes were flowing before the split
            stop.wait(0.01)
        kinesis.split_shard(StreamName=name, ShardToSplit=shard_id(1), NewStartingHashKey=str(2**127 + 2**126))
        wait_active(kinesis, name)
        settled = len(written)
        while len(written) < settled + 2 * len(KEYS):  # and after it
            stop.wait(0.01)
    finally:
        stop.set()
        writer.join(60)
    assert not failures
    assert {entry["ShardId"] for _, _, entry in written} >= {shard_id(1), shard_id(2), shard_id(3)}
    assert_each_once_in_order(read_following_lineage(kinesis, name), written)


async def test_producers_find_no_shard_map_where_the_kinesis_api_never_ran(kafka_bootstrap: str) -> None:
    # kemu produce before any kemu kinesis serve: no metadata topic yet, and a stream it has never seen.
    missing = f"kemu-kinesis-metadata-never-made-{uuid.uuid4().hex[:6]}"
    assert await read_shard_map(kafka_bootstrap, missing, "orders") is None
    assert (
        await read_shard_map(kafka_bootstrap, KinesisSettings().metadata_topic, f"unknown-{uuid.uuid4().hex}") is None
    )
