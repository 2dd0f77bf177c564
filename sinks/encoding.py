"""The format: raw JSON records → an Arrow table (plus the records that failed) → Parquet bytes.

Two paths give the same table for the same input. The fast one hands the whole batch to pyarrow's JSON reader
(C++, no Python per record). Whenever it cannot be sure (a parse error, a type conflict, a nested value, a record
spread over several lines) the batch goes through the per-record path, which finds exactly which records fail and
why. Which path runs depends only on the batch and the registry, so a replay produces the same bytes.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from sinks.buffering import PackedRecords
from sinks.config import Compression, FieldType
from sinks.exceptions import ConversionError, ParseError, RecordError
from sinks.schema import ARROW_TYPES, SchemaRegistry, convert, family_of, inferred_type, merge_families


@dataclass
class EncodedBatch:
    """The rows that converted, and the records that did not (by index in the input batch)."""

    table: pa.Table
    #: Input index of each table row; ``None`` when every record converted (row i is record i).
    rows: list[int] | None
    errors: list[tuple[int, RecordError]] = field(default_factory=list)

    def source_index(self, row: int) -> int:
        return row if self.rows is None else self.rows[row]


class _NeedsSlowPath(Exception):
    pass


def encode_batch(values: list[bytes] | PackedRecords, registry: SchemaRegistry) -> EncodedBatch:
    """Convert one partition's raw records, growing ``registry`` with new fields unless it is declared."""
    records = values if isinstance(values, PackedRecords) else PackedRecords.of(values)
    if not len(records):
        return EncodedBatch(pa.table({}), None)
    try:
        return _fast(records, registry)
    except _NeedsSlowPath:
        return _slow(records.values, registry)


def _fast(records: PackedRecords, registry: SchemaRegistry) -> EncodedBatch:
    if registry.has_per_record_types():
        raise _NeedsSlowPath
    joined = records.joined
    # A record spread over several lines (pretty-printed JSON) would shift rows against offsets.
    if joined.count(b"\n") != len(records) - 1 or min(records.lengths) == 0:
        raise _NeedsSlowPath
    read = pa_json.ReadOptions(use_threads=False, block_size=max(len(joined) + 1, 1 << 20))
    schema = registry.arrow_schema()
    # Once the registry knows some fields, most batches bring no new one: reading with the schema alone (no
    # inference) is faster; a batch with a new field fails that read and is read again with inference.
    modes = ["ignore"] if registry.declared else (["error", "infer"] if registry.fields else ["infer"])
    for mode in modes:
        parse = pa_json.ParseOptions(explicit_schema=schema, unexpected_field_behavior=mode)
        try:
            table = pa_json.read_json(io.BytesIO(joined), read_options=read, parse_options=parse)
            break
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            if mode == modes[-1]:
                raise _NeedsSlowPath from None
    if table.num_rows != len(records):
        raise _NeedsSlowPath
    new: dict[str, FieldType] = {}
    for name, column in zip(table.column_names, table.columns, strict=True):
        if name in registry.fields or column.type == pa.null():
            continue
        kind = inferred_type(column.type)
        if kind is None:
            raise _NeedsSlowPath
        new[name] = kind
    for name, kind in new.items():
        registry.add(name, kind)
    return EncodedBatch(_normalise(table, registry), None)


def _slow(values: list[bytes], registry: SchemaRegistry) -> EncodedBatch:
    parsed: list[dict[str, Any] | None] = []
    errors: list[tuple[int, RecordError]] = []
    for index, value in enumerate(values):
        try:
            obj = orjson.loads(value)
        except orjson.JSONDecodeError as exc:
            errors.append((index, ParseError(f"not valid JSON: {exc}")))
            parsed.append(None)
            continue
        if not isinstance(obj, dict):
            errors.append((index, ParseError(f"a record must be a JSON object, got {type(obj).__name__}")))
            parsed.append(None)
            continue
        parsed.append(obj)
    if not registry.declared:
        _register_new_fields(parsed, registry)
    names = list(registry.fields)
    columns: dict[str, list[Any]] = {name: [] for name in names}
    rows: list[int] = []
    for index, obj in enumerate(parsed):
        if obj is None:
            continue
        try:
            converted = [convert(name, obj.get(name), registry.fields[name]) for name in names]
        except ConversionError as exc:
            errors.append((index, exc))
            continue
        rows.append(index)
        for name, item in zip(names, converted, strict=True):
            columns[name].append(item)
    errors.sort(key=lambda pair: pair[0])
    arrays = [pa.array(columns[name], type=ARROW_TYPES[registry.fields[name]]) for name in names]
    table = pa.Table.from_arrays(arrays, names=names) if names else pa.table({"_": pa.nulls(len(rows))}).drop(["_"])
    return EncodedBatch(_normalise(table, registry), rows if errors else None, errors)


def _register_new_fields(parsed: list[dict[str, Any] | None], registry: SchemaRegistry) -> None:
    seen: dict[str, list[Any]] = {}
    for obj in parsed:
        if obj is None:
            continue
        for name, value in obj.items():
            if name in registry.fields:
                continue
            kind = family_of(value)
            if kind is not None:
                kinds = seen.setdefault(name, [])
                if kind not in kinds:
                    kinds.append(kind)
            else:
                seen.setdefault(name, [])
    for name, kinds in seen.items():
        if kinds:
            registry.add(name, merge_families(kinds))


def _normalise(table: pa.Table, registry: SchemaRegistry) -> pa.Table:
    """Columns in registry order; inferred streams drop columns with no value in this batch, so an object's columns
    depend only on its own records (the same after a replay, whatever the registry learnt meanwhile)."""
    keep = []
    for name in registry.fields:
        if name not in table.column_names:
            continue
        column = table.column(name)
        if registry.declared or column.null_count < len(column):
            keep.append(name)
    return table.select(keep)


def to_parquet(table: pa.Table, compression: Compression, metadata: dict[str, str]) -> bytes:
    """Parquet bytes of ``table``; the same table and metadata always give the same bytes."""
    existing = table.schema.metadata or {}
    table = table.replace_schema_metadata({**existing, **{k.encode(): v.encode() for k, v in metadata.items()}})
    sink = io.BytesIO()
    codec = None if compression is Compression.NONE else compression.value
    pq.write_table(table, sink, compression=codec)
    return sink.getvalue()
