"""The Kinesis Client Library 3 (Java), unchanged, with enhanced fan-out (it registers its stream consumer and
reads every shard with SubscribeToShard over HTTP/2) and in polling mode (GetRecords), its leases in moto's
DynamoDB (``moto_server``, the accepted stand-in: DynamoDB is not kemu's), CloudWatch metrics off. It must see each
of 100 records of a 2-shard stream exactly once. Skipped, saying why, without java or mvn."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from emulator.services.ports import free_port
from tests.support.kinesis_server import kinesis_client, wait_active
from tests.support.maven_clients import CLIENTS, client_jars


@contextlib.contextmanager
def moto_dynamodb() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).parent / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(url + "/moto-api/", timeout=2)
                break
            except httpx.HTTPError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("moto_server did not start") from None
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)


def run_kcl(kinesis_url: str, stream: str, count: int, mode: str) -> Any:
    """KclFanOut.java reading ``stream`` until it has seen ``count`` records (leases in a moto DynamoDB of its own):
    the counts it prints."""
    lib = client_jars("kcl")
    with moto_dynamodb() as dynamodb:
        done = subprocess.run(
            [
                "java", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn", "-cp", f"{lib}/*",
                str(CLIENTS / "kcl" / "KclFanOut.java"), kinesis_url, dynamodb, stream, str(count), mode,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )  # fmt: skip
    assert done.returncode == 0, done.stdout + done.stderr[-5000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


def put_numbered(kinesis: Any, name: str, numbers: range) -> Any:
    """Records ``b"<i>"`` with partition key ``key-<i>`` for each ``i``, in one PutRecords; its response."""
    return kinesis.put_records(
        StreamName=name, Records=[{"Data": b"%d" % i, "PartitionKey": f"key-{i}"} for i in numbers]
    )


@contextlib.contextmanager
def stream_of_100_records(kinesis: Any, name: str) -> Iterator[dict[str, Any]]:
    """A 2-shard stream ``name`` holding records 0 to 99 (:func:`put_numbered`): its description; deleted after."""
    kinesis.create_stream(StreamName=name, ShardCount=2)
    try:
        description = wait_active(kinesis, name)
        put_numbered(kinesis, name, range(100))
        yield description
    finally:
        kinesis.delete_stream(StreamName=name)


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("mode", ["fanout", "polling"])
def test_kcl_3_reads_every_record_once(kinesis_url: str, mode: str) -> None:
    kinesis: Any = kinesis_client(kinesis_url)
    name = f"kcl-{uuid.uuid4().hex[:8]}"
    with stream_of_100_records(kinesis, name) as description:
        assert run_kcl(kinesis_url, name, 100, mode) == {"records": 100, "deliveries": 100}
        # Fan-out registered its consumer through the API; polling has none.
        consumers = kinesis.list_stream_consumers(StreamARN=description["StreamARN"])["Consumers"]
        assert bool(consumers) == (mode == "fanout"), consumers


@pytest.mark.timeout(1500)
@pytest.mark.parametrize("mode", ["fanout", "polling"])
def test_kcl_3_reads_through_a_split_shard_parents_then_children_each_record_once(kinesis_url: str, mode: str) -> None:
    kinesis: Any = kinesis_client(kinesis_url)
    name = f"kcl-split-{mode}-{uuid.uuid4().hex[:8]}"
    with stream_of_100_records(kinesis, name):
        kinesis.split_shard(StreamName=name, ShardToSplit="shardId-000000000000", NewStartingHashKey=str(2**126))
        wait_active(kinesis, name)
        after = put_numbered(kinesis, name, range(100, 200))
        # Records after the split went to the children (and the open parent 1), never to the closed shard 0.
        assert "shardId-000000000000" not in {entry["ShardId"] for entry in after["Records"]}
        assert {"shardId-000000000002", "shardId-000000000003"} <= {entry["ShardId"] for entry in after["Records"]}
        assert run_kcl(kinesis_url, name, 200, mode) == {"records": 200, "deliveries": 200}
