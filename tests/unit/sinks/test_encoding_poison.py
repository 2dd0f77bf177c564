"""Poison records in the format step: each goes to the errors with its reason; nothing crashes or raises.

pyarrow's JSON reader crashed the write worker (a segmentation fault) on a record nested 50,000 levels deep and on a
top-level ``null`` first in a batch; it delivered a ``null`` elsewhere as an empty row and bytes that are not UTF-8
as invalid Parquet strings; a JSON column nested 300 levels deep raised out of the conversion. The crashes run in a
child process here, so that on code that still crashes this test fails instead of the test run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from sinks.config import FieldType
from sinks.encoding import encode_batch
from sinks.exceptions import ConversionError, ParseError, RecordError
from sinks.schema import SchemaRegistry
from tests.support.poison import oddities, poisons

ROOT = Path(__file__).resolve().parents[3]


def event(i: int) -> dict[str, object]:
    return {"event_id": f"e{i}", "event_type": "score", "event_time": "2026-11-27T08:00:00.123Z",
            "player_id": f"p{i % 7}", "level": 3, "points": i, "ratio": 0.5}  # fmt: skip


def valid(count: int) -> list[bytes]:
    return [orjson.dumps(event(i)) for i in range(count)]


CRASH_CHILD = """
import sys
from sinks.encoding import encode_batch
from sinks.schema import SchemaRegistry
from tests.unit.sinks.test_encoding_poison import valid
poison = {"deep": b'{"event_id": "x", "deep": ' + b"[" * 50_000 + b"]" * 50_000 + b"}", "null": b"null"}[sys.argv[1]]
for at in (0, 3):
    values = valid(6)
    values.insert(at, poison)
    batch = encode_batch(values, SchemaRegistry())
    print(batch.table.num_rows, [(i, type(e).__name__, str(e)[:40]) for i, e in batch.errors])
"""


@pytest.mark.parametrize(
    ("poison", "reason"),
    [
        ("deep", "ParseError', 'nested deeper than 1,024 levels"),
        ("null", "ParseError', 'a record must be a JSON object"),
    ],
)
def test_records_that_crashed_pyarrow_are_routed(poison: str, reason: str) -> None:
    done = subprocess.run(
        [sys.executable, "-c", CRASH_CHILD, poison], capture_output=True, text=True, timeout=120, cwd=ROOT, check=False
    )
    assert done.returncode == 0, f"exit code {done.returncode}: {done.stderr[-2000:]}"
    first, fourth = done.stdout.splitlines()
    assert first.startswith(f"6 [(0, '{reason}")
    assert fourth.startswith(f"6 [(3, '{reason}")


def test_a_null_record_is_not_delivered_as_an_empty_row() -> None:
    values = valid(4)
    values.insert(2, b"null")
    batch = encode_batch(values, SchemaRegistry())
    assert batch.table.num_rows == 4
    assert [(i, str(e)) for i, e in batch.errors] == [(2, "a record must be a JSON object, got null")]


def test_text_that_is_not_utf8_is_routed_not_written_as_a_broken_string() -> None:
    values = valid(4)
    values.insert(1, orjson.dumps(event(9)).replace(b'"p2"', b'"\xff\xfe"'))
    batch = encode_batch(values, SchemaRegistry())
    batch.table.validate(full=True)  # every string in the table is UTF-8
    [(index, error)] = batch.errors
    assert index == 1
    assert str(error).startswith("not valid UTF-8 (byte 0xff at position ")


def test_nan_and_infinity_are_routed_as_json_does_not_have_them() -> None:
    values = [*valid(4), orjson.dumps(event(4)).replace(b"0.5", b"NaN"), b'{"ratio": -Infinity}']
    batch = encode_batch(values, SchemaRegistry())
    assert [i for i, _ in batch.errors] == [4, 5]
    assert all(isinstance(e, ParseError) for _, e in batch.errors)


@pytest.mark.parametrize("declared", [False, True])
def test_a_json_value_nested_too_deeply_to_write_is_routed(declared: bool) -> None:
    registry = SchemaRegistry({"event_id": FieldType.STRING, "nested": FieldType.JSON}, declared=declared)
    values = [b'{"event_id": "a", "nested": [1]}', b'{"event_id": "b", "nested": ' + b"[" * 300 + b"]" * 300 + b"}"]
    batch = encode_batch(values, registry)
    assert batch.table.column("event_id").to_pylist() == ["a"]
    [(index, error)] = batch.errors
    assert index == 1
    assert isinstance(error, ConversionError)
    assert "nested too deeply" in str(error)


#: What the sink keeps of the poison kinds the analytics engine refuses: it infers a schema from every field, keeps
#: times as text, and has no record size limit of its own (Kafka's applies).
KEPT_BY_THE_SINK = {
    "event time in year 0",
    "event time after year 9999",
    "event time not a time",
    "event time null",
    "oversized field",
    "duplicate field",
}


@pytest.mark.parametrize("at", [0, 5, 40])
def test_every_poison_kind_is_routed_or_kept_and_the_verdict_does_not_depend_on_the_batch(at: int) -> None:
    kinds = poisons(event(99), "player_id", "points", "event_time", "ratio")
    registry = SchemaRegistry()
    encode_batch(valid(3), registry)  # the stream's schema, as earlier batches left it
    for kind in kinds:
        value = kind.value or b""  # the consumer reads a null Kafka value as empty bytes
        values = valid(50)
        values.insert(at, value)
        batch = encode_batch(values, SchemaRegistry(dict(registry.fields)))
        alone = encode_batch([value], SchemaRegistry(dict(registry.fields)))
        if kind.name in KEPT_BY_THE_SINK:
            assert batch.errors == [], kind.name
            assert alone.errors == [], kind.name
        else:
            assert [i for i, _ in batch.errors] == [at], kind.name
            assert isinstance(batch.errors[0][1], RecordError)
            assert [type(e) for _, e in alone.errors] == [type(batch.errors[0][1])], kind.name
        assert batch.table.num_rows == 50 + (kind.name in KEPT_BY_THE_SINK)
        batch.table.validate(full=True)


def test_odd_records_are_kept_unless_a_field_is_unusable() -> None:
    """The analytics engine ignores fields its query does not read; the sink keeps every field, so a field it
    cannot read (too deep, NaN) sends the record to the errors."""
    refused = {"nested 50,000 deep in an unread field", "NaN in an unread field"}
    for name, value in oddities(event(5)):
        values = valid(5)
        values.insert(2, value)
        batch = encode_batch(values, SchemaRegistry())
        assert [i for i, _ in batch.errors] == ([2] if name in refused else []), name
        assert batch.table.num_rows == (5 if name in refused else 6), name


@pytest.mark.parametrize("time", ["9999-12-31T23:59:59-05:00", "0001-01-01T00:00:00+05:00"])
def test_a_declared_timestamp_beyond_the_years_1_to_9999_is_routed_on_both_paths(time: str) -> None:
    """In UTC these fall in year 10000 or year 0: the per-record path raised OverflowError out of the conversion
    (the write failed), the bulk path wrote them as they were."""
    registry = SchemaRegistry({"id": FieldType.BIGINT, "t": FieldType.TIMESTAMP}, declared=True)
    record = orjson.dumps({"id": 1, "t": time})
    good = orjson.dumps({"id": 2, "t": "2026-11-27T08:00:00Z"})
    for values in ([record, good], [record, good, b"{not json"]):  # the bulk path, then the per-record path
        batch = encode_batch(values, registry)
        assert batch.table.column("id").to_pylist() == [2]
        assert isinstance(batch.errors[0][1], ConversionError)
        assert "years 1 to 9999" in str(batch.errors[0][1])
