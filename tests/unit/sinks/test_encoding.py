"""Records → Arrow → Parquet: both conversion paths, errors with reasons, schema evolution, determinism."""

from __future__ import annotations

import io

import orjson
import pyarrow as pa
import pyarrow.parquet as pq

from sinks.config import Compression, FieldType
from sinks.encoding import encode_batch, to_parquet
from sinks.exceptions import ConversionError, ParseError
from sinks.schema import SchemaRegistry


def records(*objs: object) -> list[bytes]:
    return [orjson.dumps(o) for o in objs]


def test_flat_records_take_the_fast_path_and_register_fields() -> None:
    registry = SchemaRegistry()
    batch = encode_batch(records({"a": 1, "s": "x", "f": 1.5, "b": True}, {"a": 2, "s": "y", "f": 2}), registry)
    assert batch.rows is None
    assert not batch.errors
    assert batch.table.to_pylist() == [
        {"a": 1, "s": "x", "f": 1.5, "b": True},
        {"a": 2, "s": "y", "f": 2.0, "b": None},
    ]
    assert registry.fields == {
        "a": FieldType.BIGINT,
        "s": FieldType.STRING,
        "f": FieldType.DOUBLE,
        "b": FieldType.BOOLEAN,
    }
    assert registry.dirty


def test_bad_records_are_reported_with_reasons_and_the_rest_converts() -> None:
    registry = SchemaRegistry({"a": FieldType.BIGINT})
    values = [b'{"a": 1}', b"{oops", b"[1]", b'{"a": "x"}', b'{"a": 1.5}', b'{"a": 4}']
    batch = encode_batch(values, registry)
    assert batch.table.column("a").to_pylist() == [1, 4]
    assert [batch.source_index(r) for r in range(2)] == [0, 5]
    kinds = [(i, type(e)) for i, e in batch.errors]
    assert kinds == [(1, ParseError), (2, ParseError), (3, ConversionError), (4, ConversionError)]
    assert "is bigint in the schema, got string" in str(batch.errors[2][1])


def test_a_new_optional_field_becomes_a_column_of_later_batches_only() -> None:
    registry = SchemaRegistry()
    first = encode_batch(records({"id": "1"}), registry)
    later = encode_batch(records({"id": "2", "referrer": "x"}), registry)
    again = encode_batch(records({"id": "3"}), registry)
    assert first.table.column_names == ["id"]
    assert later.table.column_names == ["id", "referrer"]
    assert again.table.column_names == ["id"]  # columns depend only on the object's own records
    assert list(registry.fields) == ["id", "referrer"]


def test_nested_values_are_kept_as_json_text() -> None:
    registry = SchemaRegistry()
    batch = encode_batch(records({"id": "1", "tags": ["a", "b"], "geo": {"lat": 1.5}}), registry)
    assert batch.table.to_pylist() == [{"id": "1", "tags": '["a","b"]', "geo": '{"lat":1.5}'}]
    assert registry.fields["geo"] is FieldType.JSON


def test_declared_schema_drops_undeclared_fields_and_parses_timestamps() -> None:
    registry = SchemaRegistry({"id": FieldType.STRING, "at": FieldType.TIMESTAMP, "n": FieldType.BIGINT}, declared=True)
    batch = encode_batch(records({"id": "1", "at": "2026-11-27T08:00:00.123Z", "extra": 5}), registry)
    assert batch.table.schema == pa.schema(
        [("id", pa.string()), ("at", pa.timestamp("ms", tz="UTC")), ("n", pa.int64())]
    )
    assert batch.table.column("at").to_pylist()[0].isoformat() == "2026-11-27T08:00:00.123000+00:00"
    assert list(registry.fields) == ["id", "at", "n"]


def test_both_paths_give_the_same_table() -> None:
    good = records({"a": 1, "s": "x"}, {"a": 2, "s": "y"})
    fast = encode_batch(good, SchemaRegistry())
    slow = encode_batch([*good, b"not json"], SchemaRegistry())
    assert fast.rows is None
    assert slow.rows == [0, 1]
    assert fast.table.equals(slow.table)


def test_pretty_printed_records_are_not_split_across_rows() -> None:
    batch = encode_batch([b'{\n "a": 1\n}', b'{"a": 2}'], SchemaRegistry())
    assert batch.table.column("a").to_pylist() == [1, 2]


def test_parquet_bytes_are_deterministic_and_carry_metadata() -> None:
    table = encode_batch(records({"a": 1}, {"a": 2}), SchemaRegistry()).table
    one = to_parquet(table, Compression.ZSTD, {"kemu.first_offset": "0"})
    assert one == to_parquet(table, Compression.ZSTD, {"kemu.first_offset": "0"})
    meta = pq.read_metadata(io.BytesIO(one))
    assert meta.metadata[b"kemu.first_offset"] == b"0"
    assert meta.row_group(0).column(0).compression == "ZSTD"
    snappy = pq.read_metadata(io.BytesIO(to_parquet(table, Compression.SNAPPY, {})))
    assert snappy.row_group(0).column(0).compression == "SNAPPY"
    plain = pq.read_metadata(io.BytesIO(to_parquet(table, Compression.NONE, {})))
    assert plain.row_group(0).column(0).compression == "UNCOMPRESSED"


def test_registry_round_trips_through_json() -> None:
    registry = SchemaRegistry({"a": FieldType.BIGINT, "j": FieldType.JSON})
    assert SchemaRegistry.from_json(registry.to_json()).fields == registry.fields
