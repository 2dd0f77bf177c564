"""What a write holds in memory, in bytes of the sink's own structures (tracemalloc), for a given buffer size.

The budget of a delivery stream is a small multiple of its buffering hint plus a fixed overhead (docs/sinks.md):
handing a filled buffer to the write worker must not copy it again on the consuming side, and the worker must not
keep a write's raw records once it has converted them.
"""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Iterator

import pytest

from sinks.buffering import PackedRecords, PartitionBuffer
from sinks.config import DeliveryStreamConfig, S3Connection
from sinks.encoding import encode_batch
from sinks.schema import SchemaRegistry
from sinks.worker import Init, WriteWorker, job_message, worker_environment
from sinks.worker_main import Worker

#: About 8 MiB of records: far above the pipe's 1 MiB, so a copy of what does not fit at once would show.
RECORDS = 24_000
POLL = 500  # records a poll adds, as the consuming loop does


def record(i: int) -> bytes:
    # json, not orjson: orjson's bytes objects keep spare capacity, which would swamp what the sink holds.
    event = {"event_id": f"evt-{i:012d}", "user_id": f"user-{i % 5000}", "url": f"/p/{i}", "pad": "x" * 260}
    return json.dumps(event).encode()


def filled_buffer(partition: int = 0) -> PartitionBuffer:
    buffer = PartitionBuffer(partition)
    for start in range(0, RECORDS, POLL):
        values = [record(i) for i in range(start, start + POLL)]
        offsets = list(range(start, start + POLL))
        buffer.extend(offsets, [1_800_000_000_000 + i for i in offsets], values, sum(map(len, values)))
    return buffer


def raw_size() -> int:
    return sum(len(record(i)) for i in range(RECORDS))


@pytest.fixture
def traced() -> Iterator[None]:
    tracemalloc.start()
    try:
        yield
    finally:
        tracemalloc.stop()


def config() -> DeliveryStreamConfig:
    return DeliveryStreamConfig(name="s", source_topic="t", bucket="kemu-test", prefix="d/", error_output_prefix="e/")


@pytest.mark.usefixtures("traced")
async def test_buffering_and_handing_a_write_to_the_worker_holds_about_one_copy_of_its_records() -> None:
    worker = WriteWorker(config(), S3Connection(), "tests.support.draining_sink_worker")
    try:
        await worker.start()
        tracemalloc.reset_peak()
        before, _ = tracemalloc.get_traced_memory()
        buffer = filled_buffer()
        job = await worker.submit([buffer])
        del buffer
        held, peak = (x - before for x in tracemalloc.get_traced_memory())
        await worker.go(job)
        assert (await worker.result(job, None)).job == job
    finally:
        await worker.close()
    size = raw_size()
    # The records once (a bytearray grows by an eighth at most), kept until the write is done: a restarted worker
    # is given them again.
    assert held < 1.25 * size, f"{held / size:.2f} x the buffer held after the hand-over"
    # At its peak (filling, packing, sending) about one copy too: no list of records beside a joined copy, no copy
    # of what the pipe did not take at once (at most one slice of it, 1 MiB, waits in asyncio's buffer).
    assert peak < 1.5 * size, f"{peak / size:.2f} x the buffer at the peak of the hand-over"


@pytest.mark.usefixtures("traced")
def test_the_worker_keeps_no_raw_records_of_a_write_it_converted() -> None:
    worker = Worker(Init(config(), S3Connection(endpoint_url="http://127.0.0.1:9"), logging.WARNING), io.BytesIO())
    message, blocks = job_message(1, [filled_buffer(0), filled_buffer(1)])
    for packed, block in zip(message.buffers, blocks, strict=True):
        packed.records.joined = bytes(block)
    del blocks
    job = dataclasses.replace(message)
    before, _ = tracemalloc.get_traced_memory()
    encoded = worker.convert(job)  # the job stays referenced here, as by the worker's input thread
    held, _ = tracemalloc.get_traced_memory()
    assert sum(o.records for o in encoded.objects) == 2 * RECORDS
    kept = held - before + 2 * raw_size()  # what the worker still holds of the job's input and output
    parquet = sum(len(o.body) for o in encoded.objects)
    assert kept < parquet + 0.1 * raw_size(), f"{kept / raw_size():.2f} x a buffer kept after converting"


@pytest.mark.usefixtures("traced")
def test_a_batch_on_the_per_record_path_is_converted_in_bounded_memory() -> None:
    """One record that is not JSON sends its whole batch to the per-record path (orjson, Python objects per record):
    converting it must not hold every record of the batch as Python objects at once."""
    values = [record(i) for i in range(RECORDS)]
    values[100] = b"not json"
    packed = PackedRecords.of(values)
    del values
    size = len(packed.joined)
    before, _ = tracemalloc.get_traced_memory()
    tracemalloc.reset_peak()
    converted = encode_batch(packed, SchemaRegistry())
    _, peak = tracemalloc.get_traced_memory()
    assert [index for index, _ in converted.errors] == [100]
    assert converted.table.num_rows == RECORDS - 1
    assert peak - before < 1.5 * size, f"{(peak - before) / size:.2f} x the batch at the peak of its conversion"


def test_the_worker_process_converts_with_an_allocator_that_gives_memory_back() -> None:
    """pyarrow's default pool (mimalloc) kept a conversion's memory after the write; the worker's environment selects
    the system allocator, and pyarrow in a process started with it uses that (a user's own setting wins)."""
    probe = "import pyarrow; print(pyarrow.default_memory_pool().backend_name)"
    for parent, expected in (({}, "system"), ({"ARROW_DEFAULT_MEMORY_POOL": "jemalloc"}, "jemalloc")):
        env = worker_environment({**os.environ, **parent})
        done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, check=True)
        assert done.stdout.strip() == expected
