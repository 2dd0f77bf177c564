"""The AWS SDK for Go v2 (``service/kinesis``), unchanged: create a 2-shard stream, wait with its waiter, put 100
binary records, list the shards, read them all back with GetRecords, compare bytes, delete.

The client (``tests/clients/go``) is built once from the Go module proxy into kemu's cache. Skipped, saying why,
where the ``go`` command is missing."""

from __future__ import annotations

import json
import subprocess
import uuid

import pytest

from tests.support.go_clients import go_client


@pytest.mark.timeout(1200)
def test_the_go_sdk_v2_round_trips_binary_records(kinesis_url: str) -> None:
    client = go_client("go")
    done = subprocess.run(
        [str(client), kinesis_url, f"go-{uuid.uuid4().hex[:8]}"], capture_output=True, text=True, timeout=300
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {"shards": 2, "sent": 100, "received": 100, "identical": True}
