"""Isolating the record that kills the write worker: the parent's bookkeeping, and objects without that record."""

from __future__ import annotations

import dataclasses
import io
import logging

import orjson
import pytest

from sinks import worker_main
from sinks.buffering import PackedBuffer, PartitionBuffer
from sinks.config import DeliveryStreamConfig, S3Connection
from sinks.exceptions import IsolatedError, SinkError
from sinks.isolation import MAX_PLAIN_DEATHS, MAX_QUARANTINED, JobIsolation, describe_exit
from sinks.objects import partition_objects
from sinks.prefixes import KeyLayout
from sinks.schema import SchemaRegistry
from sinks.worker import Init, Screened, Screening, WriteJob, job_message, read_frame
from sinks.worker_main import Worker


def test_deaths_lead_from_a_retry_to_screening_to_a_quarantined_record() -> None:
    isolation = JobIsolation()
    isolation.on_death("s", -9)  # perhaps killed from outside: retried as it is
    assert not isolation.screen
    isolation.on_death("s", -11)
    assert isolation.screen
    isolation.announced = (0, 128, None)  # the worker announced the group of partition 0 starting at offset 128
    isolation.on_death("s", -11)
    assert isolation.narrow == {(0, 128)}
    assert isolation.quarantine == {}
    isolation.announced = (0, 128, 131)
    isolation.on_death("s", -11)
    assert list(isolation.quarantine) == [(0, 131)]
    assert "crashed the write worker (signal 11 (SIGSEGV))" in isolation.quarantine[(0, 131)]
    assert isolation.plain_deaths == 2  # deaths while a probe was announced are progress, not failures


def test_deaths_that_screening_does_not_explain_give_up() -> None:
    isolation = JobIsolation()
    for _ in range(MAX_PLAIN_DEATHS):
        isolation.on_death("s", 1)
    isolation.screened()
    with pytest.raises(SinkError, match="keeps dying \\(exit code 1\\) on one write, even when screened"):
        isolation.on_death("s", 1)


def test_a_converter_that_crashes_on_every_record_is_not_blamed_on_the_records() -> None:
    isolation = JobIsolation(screen=True)
    for offset in range(MAX_QUARANTINED):
        isolation.announced = (0, 0, offset)
        isolation.on_death("s", -11)
    isolation.announced = (0, 0, MAX_QUARANTINED)
    with pytest.raises(SinkError, match="more than 16 records"):
        isolation.on_death("s", -11)


def test_exit_descriptions() -> None:
    assert describe_exit(-11) == "signal 11 (SIGSEGV)"
    assert describe_exit(3) == "exit code 3"
    assert describe_exit(None) == "exit code None"


def test_a_quarantined_record_goes_to_the_errors_and_the_others_keep_their_objects() -> None:
    config = DeliveryStreamConfig(name="s", source_topic="t", bucket="kemu-test", prefix="d/", error_output_prefix="e/")
    layout = KeyLayout.from_prefixes(config.prefix, config.error_output_prefix)
    buffer = PartitionBuffer(2)
    for offset in range(10, 16):
        buffer.add(offset, 1_800_000_000_000 + offset, orjson.dumps({"id": offset}))
    packed = PackedBuffer.pack(buffer)

    plain, _ = partition_objects(config, layout, SchemaRegistry(), packed)
    isolated, failed = partition_objects(config, layout, SchemaRegistry(), packed, {13: "it crashed"})

    assert failed == 1
    [data] = [o for o in isolated if not o.is_error]
    [errors] = [o for o in isolated if o.is_error]
    assert data.key == plain[0].key  # same first offset, same key
    assert data.records == 5
    [line] = [orjson.loads(x) for x in errors.body.splitlines()]
    assert line["source"]["offset"] == 13
    assert line["errorMessage"] == "it crashed"
    assert line["errorCode"] == IsolatedError.code


def test_quarantining_the_first_record_moves_the_object_to_the_next_offset() -> None:
    config = DeliveryStreamConfig(name="s", source_topic="t", bucket="kemu-test", prefix="d/", error_output_prefix="e/")
    layout = KeyLayout.from_prefixes(config.prefix, config.error_output_prefix)
    buffer = PartitionBuffer(0)
    for offset in range(3):
        buffer.add(offset, 1_800_000_000_000, orjson.dumps({"id": offset}))
    objects, _ = partition_objects(config, layout, SchemaRegistry(), PackedBuffer.pack(buffer), {0: "crashed"})
    [data] = [o for o in objects if not o.is_error]
    assert data.key.endswith("-t-0-00000000000000000001.parquet")


def worker_and_job(values: list[bytes], screen: bool = False) -> tuple[Worker, WriteJob, io.BytesIO]:
    config = DeliveryStreamConfig(name="s", source_topic="t", bucket="kemu-test", prefix="d/", error_output_prefix="e/")
    out = io.BytesIO()
    worker = Worker(Init(config, S3Connection(endpoint_url="http://127.0.0.1:9"), logging.WARNING), out)
    buffer = PartitionBuffer(0)
    for offset, value in enumerate(values):
        buffer.add(offset, 1_800_000_000_000, value)
    message, blocks = job_message(5, [buffer])
    for packed, block in zip(message.buffers, blocks, strict=True):
        packed.records.joined = block
    return worker, dataclasses.replace(message, screen=screen), out


def sent(out: io.BytesIO) -> list[object]:
    out.seek(0)
    messages = []
    while (message := read_frame(out)) is not None:
        messages.append(message)
    return messages


def test_a_record_the_conversion_raises_on_is_found_in_the_worker_and_routed(monkeypatch: pytest.MonkeyPatch) -> None:
    """Not a crash but an exception no other record causes: the worker screens the write itself, no restart."""
    real = worker_main.partition_objects

    def failing(config, layout, registry, buffer, quarantine=None):  # type: ignore[no-untyped-def]
        if any(b"boom" in v for i, v in enumerate(buffer.values) if buffer.offsets[i] not in (quarantine or {})):
            raise RuntimeError("the converter failed")
        return real(config, layout, registry, buffer, quarantine)

    monkeypatch.setattr(worker_main, "partition_objects", failing)
    values = [orjson.dumps({"id": i, "note": "boom" if i == 70 else "ok"}) for i in range(100)]
    worker, job, out = worker_and_job(values)
    encoded = worker._encode(job)
    assert encoded.failed == 1
    [errors] = [o for o in encoded.objects if o.is_error]
    [line] = [orjson.loads(x) for x in errors.body.splitlines()]
    assert line["source"]["offset"] == 70
    assert line["errorMessage"] == "converting this record failed: RuntimeError: the converter failed"
    assert sum(o.records for o in encoded.objects if not o.is_error) == 99
    assert sent(out) == []  # found in process: nothing to announce to the parent


def test_a_screened_write_announces_each_probe_before_converting_it() -> None:
    values = [orjson.dumps({"id": i}) for i in range(130)]
    worker, job, out = worker_and_job(values, screen=True)
    job = dataclasses.replace(job, narrow=frozenset({(0, 64)}), quarantine={(0, 65): "crashed it"})
    encoded = worker._encode(job)
    assert encoded.failed == 1
    announced = [(m.group, m.record) for m in sent(out) if isinstance(m, Screening)]
    singles = [(64, offset) for offset in range(64, 128) if offset != 65]
    assert announced == [(0, None), *singles, (128, None)]
    assert isinstance(sent(out)[-1], Screened)
