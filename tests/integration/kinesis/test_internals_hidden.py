"""What the Kinesis API shows of kemu's own topics, and what a delete leaves in the log.

From issue 16: ListStreams listed kemu's metadata topic as an ACTIVE stream, and every DeleteStream logged
``ERROR Topic <name> not found in cluster metadata`` (the Kafka clients of the server kept asking about the topic
they had used, after it was gone).
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError

from emulator.kinesis import KinesisSettings
from tests.integration.kinesis.conftest import StreamFactory
from tests.support.kinesis_server import kinesis_client, serve_kinesis

RUN = uuid.uuid4().hex[:8]
RESULTS = f"hidden-results-{RUN}"
ALERTS = f"hidden-alerts-{RUN}"


def listed(kinesis: Any) -> list[str]:
    names: list[str] = []
    for page in kinesis.get_paginator("list_streams").paginate():
        names += page["StreamNames"]
    return names


def wait_gone(kinesis: Any, name: str, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            kinesis.describe_stream_summary(StreamName=name)
        except ClientError as error:
            if error.response["Error"]["Code"] == "ResourceNotFoundException":
                return
            raise
        if time.monotonic() > deadline:
            raise TimeoutError(f"stream {name} was not deleted")
        time.sleep(0.1)


def test_list_streams_shows_no_metadata_topic(kinesis: Any, new_stream: StreamFactory) -> None:
    mine = new_stream()
    names = listed(kinesis)
    assert mine in names
    assert "kemu-kinesis-metadata" not in names
    assert "kemu-firehose-metadata" not in names
    assert not [name for name in names if name.startswith(("kemu-", "__"))]


def test_delete_stream_logs_no_error_for_the_topic_it_deleted(
    kinesis: Any, new_stream: StreamFactory, caplog: pytest.LogCaptureFixture
) -> None:
    doomed = new_stream(shards=2)
    other = new_stream()
    for index in range(10):
        kinesis.put_record(StreamName=doomed, Data=b"x", PartitionKey=f"k{index}")
    for shard in ("shardId-000000000000", "shardId-000000000001"):
        iterator = kinesis.get_shard_iterator(StreamName=doomed, ShardId=shard, ShardIteratorType="TRIM_HORIZON")
        kinesis.get_records(ShardIterator=iterator["ShardIterator"])
    with caplog.at_level(logging.WARNING):
        kinesis.delete_stream(StreamName=doomed)
        # The server's clients refresh their metadata when they next use a new topic: a stream created while the
        # delete runs, writes to other streams, and reads.
        late = new_stream()
        wait_gone(kinesis, doomed)
        for name in (other, late):
            kinesis.put_record(StreamName=name, Data=b"y", PartitionKey="k")
            iterator = kinesis.get_shard_iterator(
                StreamName=name, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
            )
            kinesis.get_records(ShardIterator=iterator["ShardIterator"])
    noisy = [record.getMessage() for record in caplog.records if record.levelno >= logging.ERROR]
    assert noisy == []


@pytest.fixture(scope="module")
def outputs_url(kafka_bootstrap: str) -> Iterator[str]:
    settings = KinesisSettings(unlisted_topics=frozenset({RESULTS, ALERTS}))
    with serve_kinesis(settings, kafka_bootstrap) as url:
        yield url


@pytest.fixture(scope="module")
def outputs_kinesis(outputs_url: str) -> Any:
    return kinesis_client(outputs_url)


def test_analytics_outputs_are_unlisted_yet_readable_by_name(outputs_kinesis: Any) -> None:
    for name in (RESULTS, ALERTS):
        outputs_kinesis.create_stream(StreamName=name, ShardCount=1)
    try:
        for name in (RESULTS, ALERTS):
            wait_active_summary(outputs_kinesis, name)
            outputs_kinesis.put_record(StreamName=name, Data=b'{"q": 1}', PartitionKey="k")
        assert not {RESULTS, ALERTS} & set(listed(outputs_kinesis))
        iterator = outputs_kinesis.get_shard_iterator(
            StreamName=RESULTS, ShardId="shardId-000000000000", ShardIteratorType="TRIM_HORIZON"
        )["ShardIterator"]
        assert [r["Data"] for r in outputs_kinesis.get_records(ShardIterator=iterator)["Records"]] == [b'{"q": 1}']
    finally:
        for name in (RESULTS, ALERTS):
            outputs_kinesis.delete_stream(StreamName=name)


def test_analytics_outputs_are_listed_when_asked(kafka_bootstrap: str) -> None:
    name = f"listed-results-{RUN}"
    settings = KinesisSettings(unlisted_topics=frozenset({name}), list_unlisted_topics=True)
    with serve_kinesis(settings, kafka_bootstrap) as url:
        kinesis = kinesis_client(url)
        kinesis.create_stream(StreamName=name, ShardCount=1)
        try:
            wait_active_summary(kinesis, name)
            assert name in listed(kinesis)
        finally:
            kinesis.delete_stream(StreamName=name)


def wait_active_summary(kinesis: Any, name: str, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while kinesis.describe_stream_summary(StreamName=name)["StreamDescriptionSummary"]["StreamStatus"] != "ACTIVE":
        if time.monotonic() > deadline:
            raise TimeoutError(f"stream {name} is not ACTIVE")
        time.sleep(0.05)
