"""Overload: 200 concurrent PutRecords of 500 records each. Every record is either acknowledged or refused with
``ProvisionedThroughputExceededException`` (retryable: the SDKs and the KCL retry on it), never ``InternalFailure``;
a client that retries the refused records ends with every record in the stream exactly once.

Before, 59,123 of 100,000 records came back ``InternalFailure`` (aiokafka's ``KafkaTimeoutError`` while the writes
queued for a partition) although none was lost: a client could not tell whether to retry.
"""

from __future__ import annotations

import asyncio
import base64
import uuid
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from tests.support.kinesis_process import kinesis_process
from tests.support.kinesis_server import kinesis_client, wait_active

CALLS, PER_CALL, SHARDS = 200, 500, 4
RETRYABLE = {"ProvisionedThroughputExceededException"}
HEADERS = {"Content-Type": "application/x-amz-json-1.1", "X-Amz-Target": "Kinesis_20131202.PutRecords"}


def payload(index: int) -> bytes:
    """Record ``index``'s data: about 200 bytes, unique, so the stream can be checked record by record."""
    return orjson.dumps({"record": index, "pad": "x" * 170})


async def put(client: httpx.AsyncClient, url: str, stream: str, indexes: list[int]) -> tuple[list[int], Counter[str]]:
    """One PutRecords call; the indexes refused retryably, and the error codes seen (the call itself must be 200)."""
    body = orjson.dumps(
        {
            "StreamName": stream,
            "Records": [
                {"Data": base64.b64encode(payload(i)).decode(), "PartitionKey": f"pk-{i % 997}"} for i in indexes
            ],
        }
    )
    response = await client.post(url, content=body, headers=HEADERS)
    assert response.status_code == 200, response.text[:500]
    answer = response.json()
    refused: list[int] = []
    codes: Counter[str] = Counter()
    for index, entry in zip(indexes, answer["Records"], strict=True):
        if "ErrorCode" in entry:
            codes[entry["ErrorCode"]] += 1
            refused.append(index)
        else:
            assert entry["SequenceNumber"]
    assert answer["FailedRecordCount"] == len(refused)
    return refused, codes


async def stream_values(bootstrap: str, stream: str) -> Counter[bytes]:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    try:
        await consumer.start()
        partitions = [TopicPartition(stream, p) for p in range(SHARDS)]
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        seen: Counter[bytes] = Counter()
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for records in (await consumer.getmany(timeout_ms=1000, max_records=10_000)).values():
                seen.update(record.value for record in records)
        return seen
    finally:
        await consumer.stop()


@pytest.mark.parametrize(
    ("calls", "in_flight"),
    [
        (CALLS, None),  # the defaults: may refuse some, must fail none
        # A budget below one call: every call is partly refused whatever the timing, and retries must converge.
        (20, {"KEMU_KINESIS__IN_FLIGHT__RECORDS": "300"}),
    ],
    ids=["200-calls-default-budget", "20-calls-tiny-budget"],
)
async def test_concurrent_put_records_are_acknowledged_or_refused_retryably_and_land_once(
    kafka_bootstrap: str, tmp_path: Path, calls: int, in_flight: dict[str, str] | None
) -> None:
    env = {"KEMU_KAFKA__BOOTSTRAP_SERVERS": kafka_bootstrap, "KEMU_LOG_LEVEL": "WARNING", **(in_flight or {})}
    with kinesis_process(env, tmp_path / "kinesis.log") as url:
        stream = f"overload-{uuid.uuid4().hex[:8]}"
        kinesis: Any = kinesis_client(url)
        kinesis.create_stream(StreamName=stream, ShardCount=SHARDS)
        wait_active(kinesis, stream)
        pending = list(range(calls * PER_CALL))
        codes: Counter[str] = Counter()
        rounds = 0
        while pending:
            rounds += 1
            assert rounds <= 200, f"{len(pending)} records still refused after 200 rounds: {codes}"
            bodies = [pending[start : start + PER_CALL] for start in range(0, len(pending), PER_CALL)]
            # Fresh connections each round: uvicorn closes those idle for 5 s, and a reused closed one is a
            # ReadError the client could not tell from a lost answer.
            limits = httpx.Limits(max_connections=calls, max_keepalive_connections=calls)
            async with httpx.AsyncClient(timeout=300, limits=limits) as client:
                answers = await asyncio.gather(*(put(client, url, stream, body) for body in bodies))
            pending = sorted(index for refused, _ in answers for index in refused)
            for _, seen in answers:
                codes.update(seen)
            if pending:
                await asyncio.sleep(0.1)  # what an SDK's backoff does, shortened
        assert set(codes) <= RETRYABLE, f"records failed with non-retryable codes: {codes}"
        if in_flight is not None:
            assert codes["ProvisionedThroughputExceededException"] >= calls * (PER_CALL - 300)

        seen = await stream_values(kafka_bootstrap, stream)
        kinesis.delete_stream(StreamName=stream)
    expected = Counter(payload(i) for i in range(calls * PER_CALL))
    missing, duplicated = expected - seen, seen - expected
    assert not missing, f"{sum(missing.values())} records missing"
    assert not duplicated, f"{sum(duplicated.values())} records more than once"
    print(f"rounds {rounds}, refused {dict(codes)}")
