"""PutRecords cost curves: acknowledged records/s vs record size and vs concurrent connections, each beside the
minimal ASGI handler's ceiling on the same stack in the same run (``bench/putrecords_ceiling.py``), over HTTP/1.1.

One kemu server and one ceiling server serve every point of both curves; a point is the ceiling, kemu, then the
ceiling again, for ``--seconds`` (kemu) each. The cost is the server process's CPU microseconds per record.
"""

from __future__ import annotations

import contextlib
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from bench.curves import Curve, sweeping
from bench.putrecords_ceiling import Target, compare, records_per_call, servers
from sinks import S3Connection

#: What the other curve keeps fixed: the record size of the connections curve, the connections of the size curve.
RECORD_BYTES = 1024
CONNECTIONS = 8
SHARDS = 4

Services = tuple[Target, Target, str]


@contextlib.contextmanager
def services(base: tuple[str, S3Connection, str]) -> Iterator[Services]:
    """kemu (on the Kafka of ``base``) and the ceiling, with a stream of :data:`SHARDS` shards."""
    with tempfile.TemporaryDirectory(prefix="kemu-bench-") as logs, servers(base[0], SHARDS, Path(logs)) as running:
        yield running


async def _point(running: Services, record_bytes: int, connections: int, options: dict[str, Any]) -> dict[str, Any]:
    kemu, ceiling, stream = running
    seconds = float(options.get("seconds", 5.0))
    result = await compare(kemu, ceiling, stream, seconds, connections, record_bytes, http2=False)
    ours, best = result["kemu"], result["ceiling"]
    return {
        "rate": ours["records_per_s"],
        "ceiling": best["records_per_s"],
        "cost": ours["server_cpu_us_per_record"],
        "ceiling_cost": best["server_cpu_us_per_record"],
        "memory_mib": ours["server_pss_mib"],
        "records_per_call": records_per_call(record_bytes),
        "p99_ms": ours["p99_ms"],
        "ceiling_p99_ms": max(run["p99_ms"] for run in best["runs"]),
        "records_failed": ours["records_failed"],
        "http_errors": ours["http_errors"],
    }


CURVES = [
    Curve(
        name="putrecords-size",
        title=f"PutRecords vs record size ({CONNECTIONS} connections, HTTP/1.1)",
        x_label="record size (bytes)",
        xs=(100, 1024, 25_600),
        measure=sweeping(_point, "record_bytes", connections=CONNECTIONS),
        unit="records",
        notes="500 records a call up to 8 KiB records, then as many as fit in 4 MiB (163 at 25 KiB).",
    ),
    Curve(
        name="putrecords-connections",
        title=f"PutRecords vs concurrent connections ({RECORD_BYTES} B records, HTTP/1.1)",
        x_label="concurrent connections",
        xs=(1, 4, 16, 64),
        measure=sweeping(_point, "connections", record_bytes=RECORD_BYTES),
        unit="records",
        notes="One call in flight per connection; kemu batches concurrent calls into shared Kafka requests.",
    ),
]
