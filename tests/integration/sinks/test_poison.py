"""Poison records through a delivery stream on the real broker and MinIO (issue 14, item 10).

A 100,087-byte JSON record nested 50,000 levels deep segfaulted the write worker (pyarrow's schema-inferring JSON
reader crashes from about 20,000 levels); the restart resumed the same planned write and died again, and after
six tries the stream stopped: 0 of 2,000 valid events on the same partitions were delivered. Now such a record
goes to the error prefix with its reason, and every valid event lands once.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING, Any

import orjson

from sinks import DeliveryStream, DeliveryStreamConfig
from sinks.delivery import WORKER_MODULE
from tests.integration.sinks.helpers import deliver, delivery_config, encode, event, keys_under, landed, produce
from tests.support.endpoints import Endpoints
from tests.support.poison import poisons
from tests.unit.sinks.test_encoding_poison import KEPT_BY_THE_SINK

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client


def nested_50000_deep() -> bytes:
    """The review's record: 100,087 bytes of JSON, an object holding arrays nested 50,000 levels deep."""
    head = b'{"event_id":"poison","event_type":"score","player_id":"p-poison123","points":7,"deep":'
    record = head + b"[" * 50_000 + b"]" * 50_000 + b"}"
    assert len(record) == 100_087
    return record


def config_for(topic: str, endpoints: Endpoints, prefix: str, group: str) -> DeliveryStreamConfig:
    return delivery_config("poison", topic, endpoints.bucket, prefix, group)


def error_lines(s3: S3Client, bucket: str, prefix: str) -> list[dict[str, Any]]:
    lines = []
    for key in keys_under(s3, bucket, prefix):
        body = s3.get_object(Bucket=bucket, Key=key)["Body"].read()
        lines += [orjson.loads(line) for line in body.splitlines()]
    return lines


async def deliver_the_review_case(
    endpoints: Endpoints,
    topic: str,
    group: str,
    prefix: str,
    s3: S3Client,
    *,
    timeout_s: float = 120,
    worker_module: str = WORKER_MODULE,
) -> tuple[DeliveryStream, str]:
    """2,000 valid events on two partitions and the deep record among them (partition 0, offset 350), delivered by
    a write worker running ``worker_module``. Every valid event landed once and the poison is the one error line;
    returns the stream and the line's message."""
    values = encode([event(i) for i in range(2_000)])
    poison = nested_50000_deep()
    values.insert(700, poison)
    await produce(endpoints.kafka_bootstrap, topic, values, partitions=2)

    stream = await deliver(config_for(topic, endpoints, prefix, group), endpoints, timeout_s, worker_module)

    assert stream.stats.records_failed == 1
    con = landed(endpoints, prefix + "data/")
    assert con.execute("select count(*), count(distinct event_id) from landed").fetchone() == (2_000, 2_000)
    [line] = error_lines(s3, endpoints.bucket, prefix + "errors/")
    assert line["source"] == {"topic": topic, "partition": 0, "offset": 350}
    assert base64.b64decode(line["rawData"]) == poison
    assert line["errorCode"] == "DataFormatConversion.MalformedData"
    return stream, str(line["errorMessage"])


async def test_a_record_nested_50000_deep_is_routed_and_the_stream_delivers_the_rest(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    topic = await new_topic(partitions=2)
    stream, message = await deliver_the_review_case(endpoints, topic, new_group_id(), bucket_prefix, s3)

    assert stream.stats.records_delivered == 2_000
    assert stream.stats.worker_restarts == 0
    assert "nested deeper than 1,024 levels" in message, message


async def test_a_record_that_crashes_the_worker_is_isolated_instead_of_stopping_the_stream(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    """The second line of defence, against a real crash: with the format step's guard removed, the deep record
    reaches pyarrow and kills the worker. After two deaths the write is screened, the record that kills it is
    found and routed, and every valid event lands once."""
    topic = await new_topic(partitions=2)
    stream, message = await deliver_the_review_case(
        endpoints,
        topic,
        new_group_id(),
        bucket_prefix,
        s3,
        timeout_s=300,
        worker_module="tests.support.unguarded_sink_worker",
    )

    # Two deaths converting the write, one screening the group of 64 holding the record, one screening the record.
    assert stream.stats.worker_restarts == 4
    assert "crashed the write worker (signal 11 (SIGSEGV))" in message, message


async def test_every_poison_kind_is_routed_once_and_every_valid_event_lands_once(
    endpoints: Endpoints, new_topic, new_group_id, bucket_prefix: str, s3: S3Client
) -> None:
    topic = await new_topic(partitions=2)
    base = event(99_999)
    kinds = poisons(base, "player_id", "points", "event_time")
    values = encode([event(i) for i in range(3_000)])
    for n, kind in enumerate(kinds):
        values.insert(5 + n * 61, kind.value or b"")  # a null Kafka value needs a key; the sink reads it as empty
    await produce(endpoints.kafka_bootstrap, topic, values, partitions=2)
    at = {kind.name: (5 + n * 61) for n, kind in enumerate(kinds)}  # later inserts land after earlier ones

    config = config_for(topic, endpoints, bucket_prefix, new_group_id())
    stream = await deliver(config, endpoints, timeout_s=120)

    refused = [k for k in kinds if k.name not in KEPT_BY_THE_SINK]
    assert stream.stats.worker_restarts == 0
    assert stream.stats.records_failed == len(refused)
    con = landed(endpoints, bucket_prefix + "data/")
    counts = dict(con.execute("select event_id, count(*) from landed group by event_id").fetchall())
    assert counts.pop(base["event_id"]) == len(kinds) - len(refused)
    assert counts == {e: 1 for e in (event(i)["event_id"] for i in range(3_000))}
    lines = error_lines(s3, endpoints.bucket, bucket_prefix + "errors/")
    routed = sorted((line["source"]["partition"], line["source"]["offset"]) for line in lines)
    assert routed == sorted((at[k.name] % 2, at[k.name] // 2) for k in refused)
