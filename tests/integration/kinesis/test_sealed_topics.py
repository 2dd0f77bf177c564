"""Kafka's and kemu's internal topics are out of reach of the Kinesis and Firehose APIs, whatever the broker holds.

Before the rule, CreateStream ``__consumer_offsets`` on a fresh broker made Kafka create it with one partition and
the delete policy (every consumer-group commit failed after), ``__cluster_metadata`` stayed CREATING forever, a
PutRecord of non-JSON into ``kemu-firehose-metadata`` kept the server from starting again, DeleteStream removed the
metadata topics, and a Firehose delivery stream could copy any of them to S3.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable, Iterator
from typing import Any

import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from botocore.exceptions import ClientError

from emulator.firehose import FirehoseSettings
from emulator.firehose.store import direct_put_topic
from emulator.kinesis import KinesisSettings
from tests.integration.firehose.conftest import s3_config, wait_active
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import firehose_client, serve_kinesis

RUN = uuid.uuid4().hex[:8]
KINESIS_METADATA = f"sealed-test-streams-{RUN}"
FIREHOSE_METADATA = f"sealed-test-deliveries-{RUN}"
#: Kafka's internal topics (some exist on any broker in use, some never show in a listing), one that exists nowhere,
#: kemu's default metadata topics, and this server's own metadata topics (configured without kemu's prefix).
SEALED = [
    "__consumer_offsets",
    "__transaction_state",
    "__share_group_state",
    "__cluster_metadata",
    f"__never-created-{RUN}",
    "kemu-kinesis-metadata",
    "kemu-firehose-metadata",
    f"kemu-never-created-{RUN}",
    KINESIS_METADATA,
    FIREHOSE_METADATA,
]


@pytest.fixture(scope="module")
def kinesis_url(kafka_bootstrap: str, endpoints: Endpoints) -> Iterator[str]:
    """This module's endpoint (the ``kinesis`` fixture's too): Kinesis and Firehose with metadata topics of known
    names, delivering to the session's MinIO."""
    settings = KinesisSettings(
        metadata_topic=KINESIS_METADATA,
        firehose=FirehoseSettings(metadata_topic=FIREHOSE_METADATA, poll_timeout_ms=100),
    )
    with serve_kinesis(settings, kafka_bootstrap, endpoints.s3_connection()) as served:
        yield served


@pytest.fixture(scope="module")
def firehose(kinesis_url: str) -> Any:
    return firehose_client(kinesis_url)


def code_of(call: Callable[[], Any]) -> str:
    with pytest.raises(ClientError) as caught:
        call()
    code: str = caught.value.response["Error"]["Code"]
    return code


async def partition_counts(bootstrap: str) -> dict[str, int]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    try:
        await admin.start()
        return {t["topic"]: len(t["partitions"]) for t in await admin.describe_topics(None) if t["error_code"] == 0}
    finally:
        await admin.close()


def data_plane_calls(kinesis: Any, name: str) -> dict[str, Callable[[], Any]]:
    shard = "shardId-000000000000"
    return {
        "DescribeStream": lambda: kinesis.describe_stream(StreamName=name),
        "DescribeStreamSummary": lambda: kinesis.describe_stream_summary(StreamName=name),
        "ListShards": lambda: kinesis.list_shards(StreamName=name),
        "PutRecord": lambda: kinesis.put_record(StreamName=name, Data=b"not json", PartitionKey="k"),
        "PutRecords": lambda: kinesis.put_records(StreamName=name, Records=[{"Data": b"x", "PartitionKey": "k"}]),
        "GetShardIterator": lambda: kinesis.get_shard_iterator(
            StreamName=name, ShardId=shard, ShardIteratorType="TRIM_HORIZON"
        ),
        "AddTagsToStream": lambda: kinesis.add_tags_to_stream(StreamName=name, Tags={"a": "b"}),
        "ListTagsForStream": lambda: kinesis.list_tags_for_stream(StreamName=name),
        "IncreaseStreamRetentionPeriod": lambda: kinesis.increase_stream_retention_period(
            StreamName=name, RetentionPeriodHours=48
        ),
        "DeleteStream": lambda: kinesis.delete_stream(StreamName=name),
    }


async def test_kinesis_never_creates_reads_writes_lists_or_deletes_an_internal_topic(
    kinesis: Any, kafka_bootstrap: str
) -> None:
    before = await partition_counts(kafka_bootstrap)
    # The server made its own metadata topics at start.
    assert KINESIS_METADATA in before
    assert FIREHOSE_METADATA in before

    for name in SEALED:
        assert code_of(lambda name=name: kinesis.create_stream(StreamName=name, ShardCount=1)) == (
            "InvalidArgumentException"
        ), name
        for operation, call in data_plane_calls(kinesis, name).items():
            assert code_of(call) == "ResourceNotFoundException", (operation, name)
        arn = f"arn:aws:kinesis:us-east-1:000000000000:stream/{name}"
        assert code_of(lambda arn=arn: kinesis.describe_stream_summary(StreamARN=arn)) == "ResourceNotFoundException"
        # NextToken is opaque but not signed: one naming an internal topic is refused like the name itself.
        token = base64.urlsafe_b64encode(orjson.dumps({"name": name, "after": "shardId-000000000000"})).decode()
        assert code_of(lambda token=token: kinesis.list_shards(NextToken=token)) == "ResourceNotFoundException"

    listed: list[str] = []
    for page in kinesis.get_paginator("list_streams").paginate():
        listed += page["StreamNames"]
    assert not [name for name in listed if name.startswith(("__", "kemu-")) or name in SEALED]

    after = await partition_counts(kafka_bootstrap)
    for name in SEALED:
        assert after.get(name) == before.get(name), f"{name} was created, changed or deleted through the API"


def test_a_direct_put_backing_topic_is_not_a_stream(
    kinesis: Any, firehose: Any, bucket: str, bucket_prefix: str
) -> None:
    name = f"sealed-{RUN}"
    firehose.create_delivery_stream(
        DeliveryStreamName=name, ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix, 60)
    )
    wait_active(firehose, name)
    try:
        backing = direct_put_topic(name)
        assert code_of(lambda: kinesis.create_stream(StreamName=backing, ShardCount=1)) == "InvalidArgumentException"
        for operation, call in data_plane_calls(kinesis, backing).items():
            assert code_of(call) == "ResourceNotFoundException", operation
        assert firehose.put_record(DeliveryStreamName=name, Record={"Data": b'{"still": "works"}'})["RecordId"]
    finally:
        firehose.delete_delivery_stream(DeliveryStreamName=name)


def test_firehose_never_uses_an_internal_topic_as_its_source(firehose: Any, bucket: str, bucket_prefix: str) -> None:
    for index, topic in enumerate(SEALED):
        code = code_of(
            lambda index=index, topic=topic: firehose.create_delivery_stream(
                DeliveryStreamName=f"sealed-source-{RUN}-{index}",
                DeliveryStreamType="KinesisStreamAsSource",
                KinesisStreamSourceConfiguration={
                    "KinesisStreamARN": f"arn:aws:kinesis:us-east-1:000000000000:stream/{topic}",
                    "RoleARN": "arn:aws:iam::000000000000:role/firehose",
                },
                ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix, 60),
            )
        )
        assert code == "InvalidArgumentException", topic
    names = firehose.list_delivery_streams(Limit=10000)["DeliveryStreamNames"]
    assert not [name for name in names if name.startswith(f"sealed-source-{RUN}")]
