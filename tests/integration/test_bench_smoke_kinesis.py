"""The Kinesis benchmark still runs (our endpoint only: CI has no npm peers). Checks the JSON shape, never a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "kinesis_throughput.py"


def test_kinesis_benchmark_smoke(kafka_bootstrap: str) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(BENCH),
            "--servers",
            "kemu",
            "--seconds",
            "0.5",
            "--boto3-seconds",
            "0.2",
            "--concurrency",
            "2",
            "--distinct-calls",
            "2",
            "--kafka-bootstrap",
            kafka_bootstrap,
        ],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    document = json.loads(done.stdout)
    assert document["benchmark"] == "kinesis_throughput"
    kemu = document["results"]["kemu"]
    assert kemu["durable"] is True
    for phase in ("put_records", "get_records", "boto3_put_records"):
        assert isinstance(kemu[phase]["records_per_s"], int)
    assert kemu["put_records"]["records_ok"] > 0
    assert kemu["put_records"]["http_errors"] == 0
    assert kemu["get_records"]["records"] > 0
    # The HTTP/2 phase really spoke HTTP/2 to the same port.
    assert kemu["put_records_http2"]["http_versions"] == ["HTTP/2"]
    assert kemu["put_records_http2"]["records_ok"] > 0
    assert kemu["put_records_http2"]["http_errors"] == 0
