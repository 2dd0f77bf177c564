"""``kemu kinesis serve`` in a process of its own, for tests that load it (its own CPU and event loop) or that must
not share this process's state with it (Hypothesis's seeded ``random``)."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx

from emulator.services.ports import free_port


def _answers(url: str) -> bool:
    with contextlib.suppress(httpx.HTTPError), httpx.Client(timeout=5) as probe:
        response = probe.post(
            url,
            content=b"{}",
            headers={
                "Content-Type": "application/x-amz-json-1.1",
                "X-Amz-Target": "Kinesis_20131202.ListStreams",
            },
        )
        return response.is_success
    return False


@contextlib.contextmanager
def kinesis_process(env: dict[str, str], log: Path, timeout_s: float = 60) -> Iterator[str]:
    """Serve with the settings in ``env`` (``KEMU_*`` variables on top of this process's environment), logging to
    ``log``; yields the URL once ListStreams answers, and stops the process after."""
    port = free_port()
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "emulator", "kinesis", "serve", "--port", str(port)],
            env={**os.environ, **env},
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout_s
        while not _answers(url):
            assert process.poll() is None, f"the Kinesis API exited: {log.read_text()[-2000:]}"
            assert time.monotonic() < deadline, f"the Kinesis API did not answer: {log.read_text()[-2000:]}"
            time.sleep(0.2)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=60)
