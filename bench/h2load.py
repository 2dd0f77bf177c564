"""``bench.api_latency --generator h2load``: nghttp2's load generator (C, one thread) instead of ``bench.api_load``.

At 5,000 requests/s a Python generator spends most of a core of a two-core machine on itself, which the server under
test then lacks (``BENCHMARKS.md``, "## api"); h2load sends the same GETs for a fraction of that. Each of
``--connections`` clients sends ``rate / connections`` requests a second on its own keep-alive HTTP/1.1 connection
(``--rps``), and ``--log-file`` records every request's status and duration, from which the percentiles are taken
exactly as ``bench.api_load`` takes its own.

One difference, stated in the result: h2load paces each connection and sends its next request only when the last
was answered, so a stall delays the requests behind it instead of piling them up (coordinated omission). The
"from schedule" figures of ``bench.api_load`` are therefore not measured here (None).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

from bench.api_load import summarise

_REQUESTS = re.compile(r"^requests: (\d+) total", re.MULTILINE)


def available() -> bool:
    return shutil.which("h2load") is not None


def command(url: str, path: str, rate: float, duration_s: float, connections: int, log: Path) -> list[str]:
    """The h2load invocation: ``connections`` HTTP/1.1 clients at ``rate / connections`` requests/s each."""
    return [
        "h2load",
        "--h1",
        *("--clients", str(connections), "--threads", "1"),
        *("--rps", f"{rate / connections:g}"),
        *("--duration", f"{duration_s:g}"),
        *("--log-file", str(log)),
        *("--header", "Accept: application/json"),
        url + path,
    ]


def samples_of(log_text: str) -> list[tuple[float, float, int]]:
    """``(service s, service s, status)`` per logged request (columns: start µs since the epoch, status, duration
    µs); the second field stands where ``bench.api_load`` puts the time since the request was due."""
    found = []
    for line in log_text.splitlines():
        columns = line.split("\t")
        if len(columns) >= 3 and columns[1].lstrip("-").isdigit():
            seconds = int(columns[2]) / 1e6
            found.append((seconds, seconds, int(columns[1])))
    return found


def load(url: str, path: str, rate: float, duration_s: float, connections: int) -> dict[str, Any]:
    """Run h2load against ``url + path`` and summarise its log like ``bench.api_load`` does its samples."""
    with tempfile.TemporaryDirectory(prefix="kemu-h2load-") as tmp:
        log = Path(tmp) / "requests.tsv"
        completed = subprocess.run(
            command(url, path, rate, duration_s, connections, log),
            capture_output=True,
            text=True,
            timeout=duration_s + 120,
            check=False,
        )
        if completed.returncode != 0:
            raise RuntimeError(f"h2load exited with {completed.returncode}: {completed.stderr[-2000:]!r}")
        samples = samples_of(log.read_text() if log.exists() else "")
    total = _REQUESTS.search(completed.stdout)
    result = summarise(samples, int(total.group(1)) if total else len(samples), duration_s, rate)
    result["generator"] = f"h2load --h1, {connections} connections at {rate / connections:g} requests/s each"
    result["p50_from_schedule_ms"] = result["p99_from_schedule_ms"] = None  # see the module's docstring
    # h2load counts socket and protocol failures apart from answers; any of them is a request not served.
    summary_lines = ("requests:", "status codes:")
    result["h2load_summary"] = [line for line in completed.stdout.splitlines() if line.startswith(summary_lines)]
    return result
