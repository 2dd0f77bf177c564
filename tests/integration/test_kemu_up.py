"""`kemu up` as a user runs it (a subprocess, configured for the session's Kafka and MinIO): it prints its URLs,
serves, runs each pipeline component in a child process at a lower priority, and stops cleanly (children
included) on Ctrl-C (SIGINT) and on SIGTERM."""

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
        **endpoints.settings_env(),
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
    assert "not found in cluster metadata" not in text
    assert " ERROR " not in text, text


def run_until_stopped(process: subprocess.Popen[str], stop_signal: signal.Signals, output: list[str]) -> None:
    assert process.stdout is not None
    url = kinesis_url = None
    exports: list[str] = []
    deadline = time.monotonic() + 60
    # Up to the last export line: communicate() later reads the pipe itself, past what readline() buffered.
    while not any("AWS_SECRET_ACCESS_KEY" in line for line in exports) and time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        output.append(line)
        if line.strip().startswith("export AWS_"):
            exports.append(line.strip())
        found = re.search(r"live page\s+(http://127\.0\.0\.1:\d+)/", line)
        url = found.group(1) if found else url
        found = re.search(r"AWS endpoint\s+(http://127\.0\.0\.1:\d+)", line)
        kinesis_url = found.group(1) if found else kinesis_url
    assert url is not None, "".join(output)
    assert kinesis_url is not None, "".join(output)
    # What boto3 and the aws-cli need, printed for copying: every service on the endpoint printed above.
    assert f"export AWS_ENDPOINT_URL={kinesis_url}" in exports, exports
    assert f"export AWS_ENDPOINT_URL_S3={kinesis_url}" in exports, exports
    assert httpx.get(f"{url}/healthz", timeout=5).json() == {"status": "ok"}
    for _ in range(50):
        ready = httpx.get(f"{url}/readyz", timeout=10)
        if ready.status_code == 200:
            break
        time.sleep(0.3)
    assert ready.status_code == 200, ready.text
    metrics = httpx.get(f"{url}/metrics", timeout=5).text
    assert "api-results-consumer" in metrics
    parent = proc_stat(process.pid)
    for _ in range(100):  # a child lowers its priority first thing, but after its interpreter has started
        children = pipeline_children(process.pid)
        consumers = [c for name, c in children.items() if not name.startswith("producer-")]
        if consumers and all(c["nice"] != parent["nice"] for c in consumers):
            break
        time.sleep(0.1)
    assert {"kinesis-api", "analytics", "producer-game"} <= set(children), children
    for name, child in children.items():
        # demo.producer_nice (0) for the producers, kemu up's own for the Kinesis endpoint (it answers the user's SDK
        # calls), demo.pipeline_nice (19) for the rest
        own = name.startswith("producer-") or name == "kinesis-api"
        assert child["nice"] == min(parent["nice"] + (0 if own else 19), 19), name
        assert child["pgrp"] == child["pid"], name  # its own group: Ctrl-C reaches only the parent
        assert f'kemu_component_up{{component="{name}"}} 1.0' in metrics
    listed = list_streams(kinesis_url)
    assert listed.status_code == 200, listed.text
    assert "StreamNames" in listed.json()
    process.send_signal(stop_signal)
    rest, _ = process.communicate(timeout=90)
    output.append(rest)
    left = [c["pid"] for c in children.values() if Path(f"/proc/{c['pid']}").exists()]
    assert not left, f"children still running after kemu up stopped: {left}"


def proc_stat(pid: int) -> dict[str, int]:
    """pid, parent, process group and nice value from /proc (fields after the command name, see proc(5))."""
    text = Path(f"/proc/{pid}/stat").read_text()
    fields = text[text.rindex(")") + 2 :].split()
    return {"pid": pid, "ppid": int(fields[1]), "pgrp": int(fields[2]), "nice": int(fields[16])}


def pipeline_children(parent: int) -> dict[str, dict[str, int]]:
    """The pipeline components running as children of ``parent``, by component name."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            argv = (entry / "cmdline").read_bytes().split(b"\0")
            stat = proc_stat(int(entry.name))
        except (FileNotFoundError, ProcessLookupError, ValueError):
            continue
        if stat["ppid"] == parent and b"pipeline-component" in argv:
            found[argv[argv.index(b"pipeline-component") + 1].decode()] = stat
    return found


def list_streams(kinesis_url: str) -> httpx.Response:
    """ListStreams, retried while the Kinesis API's child process is still starting (it serves a moment after
    `kemu up` prints its URLs). A liveness bound, not a timing verdict: the child runs at nice 19 beside the
    producers at nice 0, and on a loaded 2-core machine its start-up (the AWS models, the lake's engine) took over
    30 s."""
    deadline = time.monotonic() + 180
    while True:
        try:
            return httpx.post(
                kinesis_url,
                headers={"X-Amz-Target": "Kinesis_20131202.ListStreams", "Content-Type": "application/x-amz-json-1.1"},
                content=b"{}",
                timeout=10,
            )
        except httpx.ConnectError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)
