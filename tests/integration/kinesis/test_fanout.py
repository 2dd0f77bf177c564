"""Enhanced fan-out with boto3 (which reads AWS's event stream over HTTP/1.1) and over HTTP/2 (httpx, events decoded
with botocore's own event stream parser): consumers registered, described, listed, kept across a restart and
deregistered; SubscribeToShard pushing records byte-identical, resumable from its continuation without loss or
repeat, refusing a second subscription within 5 s, ending after its lifetime or when its consumer goes."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import httpx
import orjson
import pytest
from botocore.eventstream import EventStreamBuffer
from botocore.exceptions import ClientError, EventStreamError

from emulator.kinesis import KinesisSettings
from tests.integration.kinesis.conftest import StreamFactory
from tests.support.kinesis_server import kinesis_client, serve_kinesis

SHARD = "shardId-000000000000"


def stream_arn(kinesis: Any, name: str) -> str:
    return str(kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamARN"])


def events(kinesis: Any, consumer_arn: str, position: dict[str, Any], shard: str = SHARD) -> Iterator[dict[str, Any]]:
    response = kinesis.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId=shard, StartingPosition=position)
    stream = response["EventStream"]
    try:
        for event in stream:
            yield event["SubscribeToShardEvent"]
    finally:
        stream.close()  # botocore leaves the connection of an ended event stream open


def read_until(stream: Iterator[dict[str, Any]], count: int) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Records of ``stream``'s events until ``count`` arrived (or the stream ended), and the last event."""
    records: list[dict[str, Any]] = []
    last: dict[str, Any] = {}
    for event in stream:
        records += event["Records"]
        last = event
        if len(records) >= count:
            break
    return records, last


def test_consumers_are_registered_described_listed_and_deregistered(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream()
    arn = stream_arn(kinesis, name)
    registered = [
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"app-{i}")["Consumer"] for i in range(3)
    ]
    assert [c["ConsumerARN"] for c in registered] == [
        f"{arn}/consumer/app-{i}:{int(c['ConsumerCreationTimestamp'].timestamp())}" for i, c in enumerate(registered)
    ]
    by_arn = kinesis.describe_stream_consumer(ConsumerARN=registered[0]["ConsumerARN"])["ConsumerDescription"]
    by_name = kinesis.describe_stream_consumer(StreamARN=arn, ConsumerName="app-0")["ConsumerDescription"]
    assert by_arn == by_name
    assert (by_arn["ConsumerStatus"], by_arn["StreamARN"]) == ("ACTIVE", arn)
    assert kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["ConsumerCount"] == 3

    first = kinesis.list_stream_consumers(StreamARN=arn, MaxResults=2)
    rest = kinesis.list_stream_consumers(StreamARN=arn, NextToken=first["NextToken"])
    assert [c["ConsumerName"] for c in first["Consumers"] + rest["Consumers"]] == ["app-0", "app-1", "app-2"]
    assert "NextToken" not in rest

    with pytest.raises(ClientError, match="ResourceInUseException"):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="app-0")
    kinesis.deregister_stream_consumer(ConsumerARN=registered[0]["ConsumerARN"])
    kinesis.deregister_stream_consumer(StreamARN=arn, ConsumerName="app-1")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        kinesis.describe_stream_consumer(ConsumerARN=registered[0]["ConsumerARN"])
    assert [c["ConsumerName"] for c in kinesis.list_stream_consumers(StreamARN=arn)["Consumers"]] == ["app-2"]


def test_a_stream_has_at_most_20_consumers_and_bad_names_are_validation_errors(
    kinesis: Any, new_stream: StreamFactory
) -> None:
    arn = stream_arn(kinesis, new_stream())
    for i in range(20):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName=f"c{i}")
    with pytest.raises(ClientError, match="LimitExceededException"):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="one-too-many")
    with pytest.raises(ClientError, match="ValidationException"):
        kinesis.register_stream_consumer(StreamARN=arn, ConsumerName="no spaces")
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        kinesis.register_stream_consumer(StreamARN=arn + "-missing", ConsumerName="c")


def test_consumers_survive_a_restart_of_the_endpoint(kafka_bootstrap: str, stream_name: Any) -> None:
    name = stream_name()
    with serve_kinesis(KinesisSettings(), kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        kinesis.create_stream(StreamName=name, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
        consumer = kinesis.register_stream_consumer(StreamARN=stream_arn(kinesis, name), ConsumerName="kept")
    with serve_kinesis(KinesisSettings(), kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        try:
            described = kinesis.describe_stream_consumer(ConsumerARN=consumer["Consumer"]["ConsumerARN"])
            assert described["ConsumerDescription"]["ConsumerName"] == "kept"
        finally:
            kinesis.delete_stream(StreamName=name)


def test_subscribe_pushes_records_then_resumes_after_its_continuation_without_loss_or_repeat(
    kinesis: Any, new_stream: StreamFactory
) -> None:
    name = new_stream()
    consumer = kinesis.register_stream_consumer(StreamARN=stream_arn(kinesis, name), ConsumerName="reader")
    consumer_arn = consumer["Consumer"]["ConsumerARN"]

    # Nothing in the shard yet: the continuation of an empty subscription must still lose nothing.
    first_event = next(events(kinesis, consumer_arn, {"Type": "TRIM_HORIZON"}))
    assert first_event["Records"] == []
    empty_continuation = first_event["ContinuationSequenceNumber"]
    time.sleep(5)  # a new subscription of the same consumer and shard within 5 s is refused

    sent = [bytes([0xFF, i, 0x00]) for i in range(30)]
    kinesis.put_records(StreamName=name, Records=[{"Data": data, "PartitionKey": "k"} for data in sent[:10]])
    stream = events(kinesis, consumer_arn, {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": empty_continuation})
    records, last = read_until(stream, 10)
    # Pushed while subscribed.
    kinesis.put_records(StreamName=name, Records=[{"Data": data, "PartitionKey": "k"} for data in sent[10:20]])
    more, last = read_until(stream, 10)
    records += more
    assert [r["Data"] for r in records] == sent[:20]
    assert last["ContinuationSequenceNumber"] == records[-1]["SequenceNumber"]
    stream.close()

    time.sleep(5)
    kinesis.put_records(StreamName=name, Records=[{"Data": data, "PartitionKey": "k"} for data in sent[20:]])
    position = {"Type": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last["ContinuationSequenceNumber"]}
    rest, final = read_until(events(kinesis, consumer_arn, position), 10)
    assert [r["Data"] for r in rest] == sent[20:]
    assert final["MillisBehindLatest"] == 0


def test_a_second_subscription_within_5_seconds_is_resource_in_use(kinesis: Any, new_stream: StreamFactory) -> None:
    name = new_stream(shards=2)
    consumer_arn = kinesis.register_stream_consumer(StreamARN=stream_arn(kinesis, name), ConsumerName="once")[
        "Consumer"
    ]["ConsumerARN"]
    first = events(kinesis, consumer_arn, {"Type": "LATEST"})
    next(first)
    with pytest.raises(ClientError, match="ResourceInUseException"):
        kinesis.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId=SHARD, StartingPosition={"Type": "LATEST"})
    # Another shard of the same consumer is another subscription.
    assert next(events(kinesis, consumer_arn, {"Type": "LATEST"}, shard="shardId-000000000001"))["Records"] == []
    first.close()


def test_deregistering_the_consumer_ends_its_subscription_with_an_error_event(
    kinesis: Any, new_stream: StreamFactory
) -> None:
    name = new_stream()
    consumer_arn = kinesis.register_stream_consumer(StreamARN=stream_arn(kinesis, name), ConsumerName="leaving")[
        "Consumer"
    ]["ConsumerARN"]
    stream = events(kinesis, consumer_arn, {"Type": "TRIM_HORIZON"})
    next(stream)
    kinesis.deregister_stream_consumer(ConsumerARN=consumer_arn)
    with pytest.raises(EventStreamError, match="ResourceNotFoundException"):
        for _ in stream:
            pass
    with pytest.raises(ClientError, match="ResourceNotFoundException"):
        kinesis.subscribe_to_shard(ConsumerARN=consumer_arn, ShardId=SHARD, StartingPosition={"Type": "LATEST"})


def test_a_subscription_ends_after_its_lifetime(kafka_bootstrap: str, stream_name: Any) -> None:
    name = stream_name()
    with serve_kinesis(KinesisSettings(subscription_lifetime_s=2), kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        kinesis.create_stream(StreamName=name, ShardCount=1)
        kinesis.get_waiter("stream_exists").wait(StreamName=name, WaiterConfig={"Delay": 1})
        try:
            arn = kinesis.register_stream_consumer(StreamARN=stream_arn(kinesis, name), ConsumerName="brief")
            # The iteration ends by itself: the server closed the event stream at the end of its lifetime.
            seen = list(events(kinesis, arn["Consumer"]["ConsumerARN"], {"Type": "LATEST"}))
            assert seen
            assert all(event["Records"] == [] for event in seen)
        finally:
            kinesis.delete_stream(StreamName=name)


def test_subscribe_over_http2_sends_the_event_stream_botocore_parses(
    kinesis: Any, kinesis_url: str, new_stream: StreamFactory
) -> None:
    name = new_stream()
    consumer_arn = kinesis.register_stream_consumer(StreamARN=stream_arn(kinesis, name), ConsumerName="h2")["Consumer"][
        "ConsumerARN"
    ]
    sent = [bytes([i]) * 3 for i in range(5)]
    kinesis.put_records(StreamName=name, Records=[{"Data": data, "PartitionKey": "k"} for data in sent])
    body = orjson.dumps({"ConsumerARN": consumer_arn, "ShardId": SHARD, "StartingPosition": {"Type": "TRIM_HORIZON"}})
    headers = {"X-Amz-Target": "Kinesis_20131202.SubscribeToShard", "Content-Type": "application/x-amz-json-1.1"}
    decoded = EventStreamBuffer()
    messages: list[Any] = []
    with (
        httpx.Client(http1=False, http2=True, timeout=30) as client,
        client.stream("POST", kinesis_url + "/", content=body, headers=headers) as response,
    ):
        assert (response.status_code, response.http_version) == (200, "HTTP/2")
        assert response.headers["content-type"] == "application/vnd.amazon.eventstream"
        for chunk in response.iter_bytes():
            decoded.add_data(chunk)
            messages += list(decoded)
            if len(messages) >= 2:
                break
    initial, first = messages[0], messages[1]
    assert initial.headers[":event-type"] == "initial-response"
    assert first.headers[":event-type"] == "SubscribeToShardEvent"
    payload = orjson.loads(first.payload)
    assert [base64.b64decode(r["Data"]) for r in payload["Records"]] == sent
