"""Running a benchmark of ``bench/`` as a smoke test: the script, a tiny run, its JSON document back."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]


async def run_benchmark(
    script: str, *arguments: str, env: Mapping[str, str] | None = None, timeout_s: float = 120
) -> dict[str, Any]:
    """Run ``bench/<script>`` with ``arguments`` and return the JSON it prints (see :func:`benchmark_output`)."""
    document, _ = await benchmark_output(script, *arguments, env=env, timeout_s=timeout_s)
    return document


async def benchmark_output(
    script: str, *arguments: str, env: Mapping[str, str] | None = None, timeout_s: float = 120
) -> tuple[dict[str, Any], str]:
    """Run ``bench/<script>`` with ``arguments`` (the project on its path, ``env`` added to the environment) without
    blocking the event loop (services of the test may run on it): the JSON it prints and its stderr. A failed run
    fails the test with the end of its stderr."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable, str(ROOT / "bench" / script), *arguments,
        env={**os.environ, "PYTHONPATH": str(ROOT), **(env or {})},
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE, cwd=ROOT,
    )  # fmt: skip
    out, err = await asyncio.wait_for(proc.communicate(), timeout_s)
    assert proc.returncode == 0, err.decode()[-2000:]
    document: dict[str, Any] = json.loads(out)
    return document, err.decode()
