"""A record the metadata readers cannot parse is skipped, logged and counted; the server still starts with every
other definition. One PutRecord of non-JSON into ``kemu-firehose-metadata`` used to keep the server from starting
ever again (``orjson.JSONDecodeError`` at startup, reported as "could not connect to Kafka")."""

from __future__ import annotations

import logging
import uuid
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaProducer

from emulator.firehose import FirehoseSettings
from emulator.kinesis import KinesisSettings
from tests.integration.firehose.conftest import s3_config, wait_active
from tests.support.endpoints import Endpoints
from tests.support.kinesis_server import firehose_client, kinesis_client, serve_kinesis
from tests.support.kinesis_server import wait_active as wait_stream_active

#: (key, value) records no reader of this project wrote, each unreadable in its own way.
JUNK: list[tuple[bytes, bytes]] = [
    (b"junk-not-json", b"\xff\xfe not json at all"),
    (b"\xff\xfe-key-not-utf8", b"{}"),
    (b"junk-array", b"[1, 2, 3]"),
    (b"junk-scalar", b"42"),
    (b"junk-wrong-types", orjson.dumps({"shard_count": "two", "stream_type": 7, "created_ms": "yesterday"})),
    (b"junk-bad-name/../x", orjson.dumps({"shard_count": 1})),
]
#: A delivery stream whose destination names no bucket (a stream definition would not even look at it).
BAD_DESTINATION = (
    b"junk-bad-destination",
    orjson.dumps({"stream_type": "DirectPut", "source_topic": "t", "created_ms": 1, "destination": {"bucket": 5}}),
)


async def inject(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap)
    try:
        await producer.start()
        for key, value in records:
            await producer.send_and_wait(topic, key=key, value=value)
    finally:
        await producer.stop()


async def test_unreadable_metadata_records_are_skipped_and_the_server_starts(
    kafka_bootstrap: str, endpoints: Endpoints, bucket: str, bucket_prefix: str, caplog: pytest.LogCaptureFixture
) -> None:
    run = uuid.uuid4().hex[:8]
    settings = KinesisSettings(
        metadata_topic=f"recovery-test-streams-{run}",
        firehose=FirehoseSettings(metadata_topic=f"recovery-test-deliveries-{run}", poll_timeout_ms=100),
    )
    s3 = endpoints.s3_connection()
    stream, delivery = f"recovery-{run}", f"recovery-{run}"
    with serve_kinesis(settings, kafka_bootstrap, s3) as url:
        kinesis, firehose = kinesis_client(url), firehose_client(url)
        kinesis.create_stream(StreamName=stream, ShardCount=2)
        wait_stream_active(kinesis, stream)
        kinesis.add_tags_to_stream(StreamName=stream, Tags={"team": "data"})
        firehose.create_delivery_stream(
            DeliveryStreamName=delivery, ExtendedS3DestinationConfiguration=s3_config(bucket, bucket_prefix, 60)
        )
        wait_active(firehose, delivery)

    # The junk follows the good definitions; a later unreadable record of a known name must not erase it either.
    await inject(kafka_bootstrap, settings.metadata_topic, [*JUNK, (stream.encode(), b"\x00garbage")])
    await inject(
        kafka_bootstrap,
        settings.firehose.metadata_topic,
        [*JUNK, BAD_DESTINATION, (delivery.encode(), orjson.dumps({"stream_type": "DirectPut"}))],
    )

    caplog.set_level(logging.WARNING, logger="emulator.aws.compacted")
    with serve_kinesis(settings, kafka_bootstrap, s3) as url:
        kinesis, firehose = kinesis_client(url), firehose_client(url)
        summary = kinesis.describe_stream_summary(StreamName=stream)["StreamDescriptionSummary"]
        assert (summary["StreamStatus"], summary["OpenShardCount"]) == ("ACTIVE", 2)
        assert kinesis.list_tags_for_stream(StreamName=stream)["Tags"] == [{"Key": "team", "Value": "data"}]
        description: dict[str, Any] = wait_active(firehose, delivery)
        assert "FailureDescription" not in description
        assert firehose.put_record(DeliveryStreamName=delivery, Record={"Data": b'{"a": 1}'})["RecordId"]
        listed = kinesis.list_streams(Limit=10000)["StreamNames"]
        assert not [name for name in listed if name.startswith("junk-")]
        firehose.delete_delivery_stream(DeliveryStreamName=delivery)
        kinesis.delete_stream(StreamName=stream)

    skipped = [r.getMessage() for r in caplog.records if r.getMessage().startswith("skipping metadata record")]
    # Every junk record, and the unreadable record of each known name, once each.
    assert len([m for m in skipped if f"{settings.metadata_topic}[" in m]) == len(JUNK) + 1, skipped
    assert len([m for m in skipped if f"{settings.firehose.metadata_topic}[" in m]) == len(JUNK) + 2, skipped
