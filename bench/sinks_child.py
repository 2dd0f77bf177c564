"""The sink side of ``bench/sinks_throughput.py``, in its own process: deliver a topic until caught up.

Started as ``python -m bench.sinks_child`` with the stream's configuration (JSON) on stdin; prints its counters as
one JSON line. It imports only what ``kemu sink run`` would, so the process tree's memory is the sink's own.
"""

from __future__ import annotations

import asyncio
import json
import sys
import time

from producers import quiet_gc
from sinks import DeliveryStream, DeliveryStreamConfig, S3Connection
from sinks.delivery import ALLOCATIONS_PER_POLL


def main() -> None:
    spec = json.loads(sys.stdin.read())
    config = DeliveryStreamConfig.model_validate(spec["config"])
    s3 = S3Connection.model_validate(spec["s3"])
    stream = DeliveryStream(config, spec["bootstrap"], s3, stop_when_caught_up=True, poll_timeout_ms=100)
    started = time.perf_counter()
    with quiet_gc(ALLOCATIONS_PER_POLL):  # as `kemu sink run` does
        stats = asyncio.run(stream.run(asyncio.Event()))
    sustained = (
        stats.last_write_at - stats.first_record_at
        if stats.first_record_at is not None and stats.last_write_at is not None
        else time.perf_counter() - started
    )
    result = {
        "elapsed_s": sustained,
        "wall_s": time.perf_counter() - started,
        "records": stats.records_delivered,
        "failed": stats.records_failed,
        "objects": stats.objects,
        "bytes": stats.bytes_written,
        "flushes": stats.flush_reasons,
        # time.monotonic() instants (one clock for every process): the benchmark takes CPU time over this span.
        "first_record_at": stats.first_record_at if stats.first_record_at is not None else time.monotonic(),
        "last_write_at": stats.last_write_at if stats.last_write_at is not None else time.monotonic(),
    }
    print(json.dumps(result), flush=True)


if __name__ == "__main__":
    main()
