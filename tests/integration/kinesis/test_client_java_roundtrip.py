"""The AWS SDK for Java v2 (``KinesisAsyncClient``), unchanged, with JSON and with CBOR: create a 2-shard stream, wait
with its waiter, put 100 binary records, list the shards, read them all back with GetRecords, compare bytes, delete.
JSON goes over HTTP/1.1 and CBOR over HTTP/2 (the SDK's default wire format and transport), so the two runs cover
both protocols of the endpoint and both of its HTTP versions.

Same jars as the fan-out test (``tests/clients/java/pom.xml``); ``RoundTrip.java`` is compiled with the client setup it
shares with ``FanOut.java`` (``KinesisClientSetup.java``). Skipped, saying why, where a JDK or ``mvn`` is missing."""

from __future__ import annotations

import uuid

import pytest

from tests.support.maven_clients import run_java_client


@pytest.mark.timeout(1200)
@pytest.mark.parametrize(("wire", "http"), [("json", "HTTP1_1"), ("cbor", "HTTP2")])
def test_the_java_sdk_v2_round_trips_binary_records(kinesis_url: str, wire: str, http: str) -> None:
    name = f"java-{wire}-{uuid.uuid4().hex[:8]}"
    result = run_java_client("java", "RoundTrip.java", kinesis_url, name, wire, http)
    assert result == {"shards": 2, "sent": 100, "received": 100, "identical": True}
