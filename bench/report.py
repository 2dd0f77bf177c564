"""What every benchmark's JSON document starts with: which benchmark, when it ran, and on what machine."""

from __future__ import annotations

import datetime as dt
import os
import platform
from typing import Any


def header(benchmark: str, **machine: object) -> dict[str, Any]:
    """The first members of a benchmark's document; ``machine`` adds readings of its own (load averages)."""
    return {
        "benchmark": benchmark,
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            **machine,
        },
    }


def load_averages() -> list[float]:
    """The 1, 5 and 15 minute load averages, rounded (zeros where the platform has none)."""
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0.0, 0.0, 0.0)
    return [round(x, 2) for x in load]
