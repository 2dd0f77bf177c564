"""The AWS SDK for Java v2 (``KinesisAsyncClient``), unchanged, with JSON and with CBOR: create a 2-shard stream, wait
with its waiter, put 100 binary records, list the shards, read them all back with GetRecords, compare bytes, delete.
JSON goes over HTTP/1.1 and CBOR over HTTP/2 (the SDK's default wire format and transport), so the two runs cover
both protocols of the endpoint and both of its HTTP versions.

Same jars as the fan-out test (``tests/clients/java/pom.xml``); ``RoundTrip.java`` runs as a single-file source
program. Skipped, saying why, where ``java`` or ``mvn`` is missing."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.support.maven_clients import CLIENTS, client_jars

CLIENT_DIR = CLIENTS / "java"


@pytest.mark.timeout(1200)
@pytest.mark.parametrize(("wire", "http"), [("json", "HTTP1_1"), ("cbor", "HTTP2")])
def test_the_java_sdk_v2_round_trips_binary_records(kinesis_url: str, wire: str, http: str) -> None:
    lib = client_jars("java")
    name = f"java-{wire}-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        ["java", "-cp", f"{lib}/*", str(CLIENT_DIR / "RoundTrip.java"), kinesis_url, name, wire, http],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"shards": 2, "sent": 100, "received": 100, "identical": True}
