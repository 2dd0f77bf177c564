"""The PutRecords ceiling's pure parts: how many records a call carries, the routing, the answer, the ASGI app."""

from __future__ import annotations

import base64
import binascii
import uuid
from typing import Any

import orjson
import pytest

from bench.putrecords_ceiling import Router, ceiling_app, put_records_answer, ratio, records_per_call
from producers.partitioning import shard_for_partition_key

pytestmark = pytest.mark.unit


def test_calls_carry_500_records_until_their_data_would_pass_4_mib() -> None:
    assert records_per_call(100) == 500
    assert records_per_call(1024) == 500
    assert records_per_call(25_600) == 163
    assert records_per_call(25_600) * 25_600 <= 4 * 2**20 < (records_per_call(25_600) + 1) * 25_600
    assert records_per_call(2 * 2**20) == 2


@pytest.mark.parametrize("shards", [1, 4, 7])
def test_the_ceiling_routes_every_key_to_the_shard_kemu_routes_it_to(shards: int) -> None:
    router = Router(shards)
    keys = [uuid.UUID(int=i * 7919).hex for i in range(2_000)] + ["", "a", "é"]
    assert [router.shard_of(k) for k in keys] == [shard_for_partition_key(k, shards) for k in keys]


def body(records: list[tuple[bytes, str]]) -> bytes:
    entries = [{"Data": base64.b64encode(data).decode(), "PartitionKey": key} for data, key in records]
    return orjson.dumps({"StreamName": "s", "Records": entries})


def test_the_answer_has_a_sequence_number_and_shard_per_record_in_order() -> None:
    router = Router(4)
    records = [(b'{"n": %d}' % i, f"key-{i}") for i in range(10)]
    answer, data_bytes = put_records_answer(body(records), router)
    parsed = orjson.loads(answer)
    assert parsed["FailedRecordCount"] == 0
    assert data_bytes == sum(len(d) for d, _ in records)
    assert [r["ShardId"] for r in parsed["Records"]] == [f"shardId-{router.shard_of(k):012d}" for _, k in records]
    numbers = [r["SequenceNumber"] for r in parsed["Records"]]
    assert len(set(numbers)) == 10
    assert all(len(n) == 56 and n.isdigit() for n in numbers)


def test_data_that_is_not_base64_is_refused_not_skipped() -> None:
    with pytest.raises(binascii.Error):
        put_records_answer(orjson.dumps({"Records": [{"Data": "not base64!", "PartitionKey": "k"}]}), Router(1))


async def test_the_app_answers_put_records_over_asgi_from_a_body_in_pieces() -> None:
    app = ceiling_app(2)
    whole = body([(b"x" * 300, "k1"), (b"y", "k2")])
    messages: list[dict[str, Any]] = [
        {"type": "http.request", "body": whole[:100], "more_body": True},
        {"type": "http.request", "body": whole[100:], "more_body": False},
    ]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return messages.pop(0)

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {"type": "http", "headers": [(b"x-amz-target", b"Kinesis_20131202.PutRecords")]}
    await app(scope, receive, send)
    assert sent[0]["status"] == 200
    assert len(orjson.loads(sent[1]["body"])["Records"]) == 2


def test_ratio_is_kemu_over_the_ceiling() -> None:
    assert ratio({"records_per_s": 30}, {"records_per_s": 60}) == 0.5
    assert ratio({"records_per_s": 30}, {"records_per_s": 0}) is None
