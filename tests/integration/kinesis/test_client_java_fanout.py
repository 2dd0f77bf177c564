"""The AWS SDK for Java v2 (``KinesisAsyncClient``), unchanged, on its default Netty transport with HTTP/2 (prior
knowledge on an ``http://`` endpoint, CBOR, what KCL's fan-out uses): create a 2-shard stream, wait with its waiter,
put 100 binary records, register a consumer, SubscribeToShard on every shard until every record arrived, compare
bytes, deregister, delete.

Its jars come from Maven Central once (``mvn dependency:copy-dependencies`` over ``tests/clients/java/pom.xml``, into
kemu's cache, keyed by the POM's hash); ``FanOut.java`` is compiled with the client setup it shares with
``RoundTrip.java`` (``KinesisClientSetup.java``). Skipped, saying why, where a JDK or ``mvn`` is missing."""

from __future__ import annotations

import uuid

import pytest

from tests.support.maven_clients import run_java_client


@pytest.mark.timeout(1200)
def test_the_java_sdk_v2_subscribes_to_every_shard_over_http2(kinesis_url: str) -> None:
    result = run_java_client("java", "FanOut.java", kinesis_url, f"java-{uuid.uuid4().hex[:8]}")
    assert result == {"shards": 2, "sent": 100, "received": 100, "identical": True}
