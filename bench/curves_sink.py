"""The sink's cost curves: events/s to MinIO vs source partitions and vs buffer size, each against the bare-consume
ceiling of the same run (one ``bench/sinks_throughput.py`` run a point)."""

from __future__ import annotations

from typing import Any

from bench.curves import Curve, sweeping
from bench.sinks_throughput import measure
from sinks import S3Connection

#: The sink's defaults, which the other curve keeps fixed.
PARTITIONS = 4
BUFFER_MIB = 5


async def _point(
    services: tuple[str, S3Connection, str], partitions: int, buffer_mib: int, options: dict[str, Any]
) -> dict[str, Any]:
    bootstrap, s3, bucket = services
    result = await measure(bootstrap, s3, bucket, int(options["events"]), partitions, buffer_mib)
    cpu = result["cpu_us_per_event"]
    return {
        "rate": result["sink"]["events_per_s"],
        "ceiling": result["ceiling"]["events_per_s"],
        # The sink's whole tree: the consuming process and the write worker.
        "cost": round(cpu.get("sink", 0.0) + cpu.get("worker", 0.0), 2),
        "ceiling_cost": cpu["ceiling"],
        "memory_mib": result["peak_pss_mib"],
        "memory_budget_mib": result["memory_budget_mib"],
        "memory_uss_mib": result["peak_uss_sum_mib"],
        "memory_by_process_mib": result["peak_pss_by_process_mib"],
        "objects": result["sink"]["objects"],
        "exactly_once": result["landed"]["exactly_once"],
    }


CURVES = [
    Curve(
        name="sink-partitions",
        title=f"Sink to MinIO vs source partitions ({BUFFER_MIB} MiB buffers)",
        x_label="partitions of the source topic",
        xs=(1, 4, 16),
        measure=sweeping(_point, "partitions", buffer_mib=BUFFER_MIB),
        notes="One object per partition and write: more partitions, smaller objects, more PUTs and commits.",
    ),
    Curve(
        name="sink-buffer",
        title=f"Sink to MinIO vs buffer size ({PARTITIONS} partitions)",
        x_label="buffering hint (MiB)",
        xs=(1, 4, 16, 64),
        measure=sweeping(_point, "buffer_mib", partitions=PARTITIONS),
        notes="Buffers are held raw in the consuming process and converted whole in the worker: memory follows size.",
    ),
]
