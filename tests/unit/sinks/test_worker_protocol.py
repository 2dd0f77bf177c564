"""What crosses the pipe to the write worker: packed records and job frames survive the trip unchanged."""

from __future__ import annotations

import io

from sinks.buffering import PackedRecords, PartitionBuffer
from sinks.worker import Go, WriteJob, frame, job_frames, read_frame, read_job_blocks


def test_packed_records_give_back_every_record_even_with_newlines_and_empty_ones() -> None:
    values = [b'{"a": 1}', b"", b'{\n "b": 2\n}', b"not json"]
    packed = PackedRecords.of(values)
    assert len(packed) == 4
    assert packed.joined == b"\n".join(values)
    assert packed.values == values


def test_a_job_and_its_raw_blocks_read_back_as_the_buffers_sent() -> None:
    first, second = PartitionBuffer(0), PartitionBuffer(3)
    first.extend([5, 6], [1_000, 1_001], [b'{"a": 1}', b'{"a": 2}'], 16)
    second.extend([9], [2_000], [b'{"b": "x\\ny"}'], 13)
    stream = io.BytesIO(b"".join([*job_frames(7, [first, second]), frame(Go(7))]))
    job = read_frame(stream)
    assert isinstance(job, WriteJob)
    assert read_job_blocks(job, stream)
    assert job.job == 7
    assert [(b.partition, list(b.offsets), list(b.timestamps), b.values) for b in job.buffers] == [
        (0, [5, 6], [1_000, 1_001], [b'{"a": 1}', b'{"a": 2}']),
        (3, [9], [2_000], [b'{"b": "x\\ny"}']),
    ]
    assert read_frame(stream) == Go(7)
    assert read_frame(stream) is None  # end of input: the worker exits
