"""The PutRecords ceiling benchmark still runs: kemu and the minimal handler over HTTP/1.1 and HTTP/2, both answering
every record. Checks the JSON's shape, never a speed."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

BENCH = Path(__file__).resolve().parents[2] / "bench" / "putrecords_ceiling.py"


def test_putrecords_ceiling_benchmark_smoke(kafka_bootstrap: str) -> None:
    command = [sys.executable, str(BENCH), "--seconds", "1", "--concurrency", "2", "--kafka-bootstrap", kafka_bootstrap]
    done = subprocess.run(command, capture_output=True, text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    document = json.loads(done.stdout)
    assert document["benchmark"] == "putrecords_ceiling"
    for protocol, version in (("http1.1", "HTTP/1.1"), ("http2", "HTTP/2")):
        result = document["results"][protocol]
        runs = [result["kemu"], *result["ceiling"]["runs"]]
        for run in runs:
            assert run["http_versions"] == [version]
            assert run["records_ok"] > 0
            assert (run["records_failed"], run["http_errors"]) == (0, 0)
            assert run["server_cpu_us_per_record"] > 0
        assert document["ratios"][protocol] == result["ratio"]
        assert result["ratio"] > 0
