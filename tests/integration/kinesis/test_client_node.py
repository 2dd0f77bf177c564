"""The AWS SDK for JavaScript v3 (``@aws-sdk/client-kinesis``), unchanged, with its default request handler
(``NodeHttp2Handler``: HTTP/2 with prior knowledge on an ``http://`` endpoint): create a 2-shard stream, wait with
its own waiter, put 100 binary records, list shards, read them back byte-identical, delete.

The client is installed with ``npm ci`` from ``tests/clients/node``'s lock file into kemu's cache (once per lock
file), so the work tree stays clean. Skipped, saying why, where ``node`` or ``npm`` is missing."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import uuid
from pathlib import Path

import pytest

from emulator.settings import default_cache_dir

CLIENT_DIR = Path(__file__).resolve().parents[2] / "clients" / "node"


def installed_client() -> Path:
    """A directory with the script and its ``node_modules``, keyed by the lock file's hash."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        pytest.skip("node and npm are needed for the JavaScript SDK client (Debian: apt-get install nodejs npm)")
    lock = (CLIENT_DIR / "package-lock.json").read_bytes()
    target = default_cache_dir() / "clients" / f"node-{hashlib.sha256(lock).hexdigest()[:16]}"
    for name in ("package.json", "package-lock.json", "roundtrip.mjs"):
        target.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(CLIENT_DIR / name, target / name)
    if not (target / "node_modules" / "@aws-sdk" / "client-kinesis").is_dir():
        subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=target, check=True, timeout=600
        )
    return target


@pytest.mark.timeout(900)
def test_the_javascript_sdk_v3_round_trips_binary_records_over_http2(kinesis_url: str) -> None:
    client = installed_client()
    name = f"node-{uuid.uuid4().hex[:8]}"
    done = subprocess.run(
        ["node", "roundtrip.mjs", kinesis_url, name], cwd=client, capture_output=True, text=True, timeout=180
    )
    assert done.returncode == 0, done.stdout + done.stderr
    result = json.loads(done.stdout.strip().splitlines()[-1])
    assert result == {
        "handler": "NodeHttp2Handler",
        "shards": ["shardId-000000000000", "shardId-000000000001"],
        "sent": 100,
        "received": 100,
        "identical": True,
    }
