"""`kemu up` as a user runs it (a subprocess, configured for the session's Kafka and MinIO): it prints its URLs,
serves, and stops cleanly on Ctrl-C (SIGINT) and on SIGTERM."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from emulator.services.ports import free_port
from tests.support.endpoints import Endpoints

KEMU = str(Path(sys.executable).parent / "kemu")


@pytest.mark.parametrize("stop_signal", [signal.SIGINT, signal.SIGTERM])
def test_kemu_up_prints_urls_serves_and_stops_cleanly(endpoints: Endpoints, stop_signal: signal.Signals) -> None:
    env = {
        **os.environ,
        "KEMU_KAFKA__BOOTSTRAP_SERVERS": endpoints.kafka_bootstrap,
        "KEMU_S3__ENDPOINT_URL": endpoints.s3_endpoint,
        "KEMU_S3__ACCESS_KEY_ID": endpoints.s3_access_key,
        "KEMU_S3__SECRET_ACCESS_KEY": endpoints.s3_secret_key,
        "KEMU_S3__BUCKET": endpoints.bucket,
        "KEMU_KINESIS__PORT": str(free_port()),
        "COLUMNS": "200",
    }
    output: list[str] = []
    with subprocess.Popen(
        [KEMU, "up", "--port", "0"], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    ) as process:
        try:
            run_until_stopped(process, stop_signal, output)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
    assert process.returncode == 0, "".join(output)
    text = "".join(output)
    assert "stopping" in text
    assert "stopped" in text
    assert "Traceback" not in text


def run_until_stopped(process: subprocess.Popen[str], stop_signal: signal.Signals, output: list[str]) -> None:
    assert process.stdout is not None
    url = kinesis_url = None
    deadline = time.monotonic() + 60
    while (url is None or kinesis_url is None) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        found = re.search(r"live page\s+(http://127\.0\.0\.1:\d+)/", line)
        url = found.group(1) if found else url
        found = re.search(r"Kinesis API\s+(http://127\.0\.0\.1:\d+)", line)
        kinesis_url = found.group(1) if found else kinesis_url
    assert url is not None, "".join(output)
    assert kinesis_url is not None, "".join(output)
    assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
    for _ in range(50):
        ready = httpx.get(f"{url}/readyz", timeout=10)
        if ready.status_code == 200:
            break
        time.sleep(0.3)
    assert ready.status_code == 200, ready.text
    assert "api-results-consumer" in httpx.get(f"{url}/metrics", timeout=5).text
    listed = httpx.post(
        kinesis_url,
        headers={"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"},
        content=b"{}",
        timeout=10,
    )
    assert listed.status_code == 200, listed.text
    assert "StreamNames" in listed.json()
    process.send_signal(stop_signal)
    rest, _ = process.communicate(timeout=30)
    output.append(rest)
