"""The format: raw JSON records → an Arrow table (plus the records that failed) → Parquet bytes.

Two paths give the same table for the same input. The fast one hands the whole batch to pyarrow's JSON reader
(C++, no Python per record). Whenever it cannot be sure (a parse error, a type conflict, a nested value, a record
spread over several lines) the batch goes through the per-record path, which finds exactly which records fail and
why. Which path runs depends only on the batch and the registry, so a replay produces the same bytes.

The per-record path reads JSON with orjson, which is strict (UTF-8 only, no ``NaN``, at most 1,024 levels of
nesting) and never crashes. pyarrow's reader is lenient where orjson is strict, and it crashes the process on some
input: arrays or objects nested about 20,000 levels deep when it infers a schema, and a top-level ``null`` at the
start of its input (both segmentation faults in pyarrow 26). So a batch goes to pyarrow only when none of that can be
in it: every byte UTF-8, every line an object on its own line, no record with more than
:data:`SCREENED_BRACKETS` opening brackets; and its result is kept only when it holds no ``NaN`` or ``Infinity``.
Anything else takes the per-record path, whose verdict is the same whatever the batch.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json
import pyarrow.parquet as pq

from foundation.text import utf8_problem
from sinks.buffering import PackedRecords
from sinks.config import Compression, FieldType
from sinks.exceptions import ConversionError, ParseError, RecordError
from sinks.schema import ARROW_TYPES, SchemaRegistry, convert, family_of, inferred_type, merge_families

#: Records with more opening brackets than this never reach pyarrow's reader (they may be nested deep enough to
#: crash it); orjson, which refuses more than 1,024 levels, reads them instead. A record shorter than this cannot
#: have so many, so most batches are not scanned at all.
SCREENED_BRACKETS = 1_000


def _unsafe_for_pyarrow(records: PackedRecords) -> bool:
    """Whether the batch holds something pyarrow's JSON reader may crash on or read differently from orjson.

    It runs on every batch: each test is one pass in C over the joined bytes or over the lengths, never a Python
    step per record."""
    joined = records.joined
    if utf8_problem(joined) is not None:
        return True
    count = len(records)
    lengths = pa.Array.from_buffers(pa.int64(), count, [None, pa.py_buffer(records.lengths)])
    shortest_longest = pc.min_max(lengths).as_py()
    # One record per line (a raw CR also ends a line for the reader), each line an object: a top-level null at the
    # start of a block of the reader's input crashes it.
    if joined.count(b"\n") != count - 1 or shortest_longest["min"] == 0 or b"\r" in joined:
        return True
    if joined.rfind(b"null") >= 0 and not (joined.startswith(b"{") and _lines_start_with_a_brace(joined, lengths)):
        return True
    if shortest_longest["max"] > SCREENED_BRACKETS:
        for index, length in enumerate(records.lengths):
            if length > SCREENED_BRACKETS:
                value = records.record(index)
                if value.count(b"[") + value.count(b"{") > SCREENED_BRACKETS:
                    return True
    return False


def _lines_start_with_a_brace(joined: bytes | bytearray, lengths: pa.Array) -> bool:
    """Whether every record after the first starts with ``{``, given that records are joined by single newlines.

    Reads one byte a record, where the lengths say each record starts, instead of searching the whole batch."""
    if len(lengths) < 2:
        return True
    starts = pc.cumulative_sum(pc.add(lengths, 1)).slice(0, len(lengths) - 1)
    data = pa.Array.from_buffers(pa.uint8(), len(joined), [None, pa.py_buffer(joined)])
    return pc.all(pc.equal(pc.take(data, starts), ord("{"))).as_py() is True


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
        return _slow(records, registry)


def _fast(records: PackedRecords, registry: SchemaRegistry) -> EncodedBatch:
    if registry.has_per_record_types():
        raise _NeedsSlowPath
    if _unsafe_for_pyarrow(records):
        raise _NeedsSlowPath
    joined = records.joined
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
        if column.type == pa.float64() and pc.any(pc.invert(pc.is_finite(column))).as_py() is True:
            raise _NeedsSlowPath  # the literals NaN or Infinity, which pyarrow reads and JSON does not have
        if pa.types.is_timestamp(column.type) and not _within_years(column):
            raise _NeedsSlowPath  # the per-record path refuses it with its reason
        if name in registry.fields or column.type == pa.null():
            continue
        kind = inferred_type(column.type)
        if kind is None:
            raise _NeedsSlowPath
        new[name] = kind
    for name, kind in new.items():
        registry.add(name, kind)
    return EncodedBatch(_normalise(table, registry), None)


#: Records the per-record path holds as Python objects at a time: parsed, they take several times their size.
SLOW_CHUNK = 2_048


def _slow(records: PackedRecords, registry: SchemaRegistry) -> EncodedBatch:
    """Parse and convert record by record, :data:`SLOW_CHUNK` records at a time: a first pass learns the new fields
    of the whole batch (inferred streams), a second converts, so the result is the one a single pass over the whole
    batch would give, in memory bounded by a chunk and the table."""
    if not registry.declared:
        seen: dict[str, list[Any]] = {}
        for _, chunk in _chunks(records):
            _collect_new_fields((obj for obj in map(_parse, chunk) if isinstance(obj, dict)), registry, seen)
        for name, kinds in seen.items():
            if kinds:
                registry.add(name, merge_families(kinds))
    names = list(registry.fields)
    errors: list[tuple[int, RecordError]] = []
    rows: list[int] = []
    tables: list[pa.Table] = []
    for start, chunk in _chunks(records):
        columns: dict[str, list[Any]] = {name: [] for name in names}
        for index, value in enumerate(chunk, start):
            obj = _parse(value)
            if isinstance(obj, ParseError):
                errors.append((index, obj))
                continue
            try:
                converted = [convert(name, obj.get(name), registry.fields[name]) for name in names]
            except ConversionError as exc:
                errors.append((index, exc))
                continue
            rows.append(index)
            for name, item in zip(names, converted, strict=True):
                columns[name].append(item)
        arrays = [pa.array(columns[name], type=ARROW_TYPES[registry.fields[name]]) for name in names]
        if names:
            tables.append(pa.Table.from_arrays(arrays, names=names))
    errors.sort(key=lambda pair: pair[0])
    # One chunk per column, as a single pass gave: the Parquet bytes of a replay stay the same.
    table = pa.concat_tables(tables).combine_chunks() if names else pa.table({"_": pa.nulls(len(rows))}).drop(["_"])
    return EncodedBatch(_normalise(table, registry), rows if errors else None, errors)


def _chunks(records: PackedRecords) -> Iterator[tuple[int, list[bytes]]]:
    """(index of the first record, the records) of each run of :data:`SLOW_CHUNK` records, sliced from the block."""
    joined, lengths = records.joined, records.lengths
    position = 0
    for start in range(0, len(lengths), SLOW_CHUNK):
        chunk = []
        for length in lengths[start : start + SLOW_CHUNK]:
            chunk.append(bytes(joined[position : position + length]))
            position += length + 1
        yield start, chunk


def _parse(value: bytes) -> dict[str, Any] | ParseError:
    """The record as a JSON object, or why it is not one."""
    problem = utf8_problem(value)
    if problem is not None:
        return ParseError(problem)
    try:
        obj = orjson.loads(value)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit exceeded"):
            return ParseError(f"nested deeper than 1,024 levels ({exc})")
        return ParseError(f"not valid JSON: {exc}")
    if not isinstance(obj, dict):
        return ParseError(f"a record must be a JSON object, got {_json_type(obj)}")
    return obj


#: Milliseconds since the epoch of 0001-01-01T00:00:00Z and 9999-12-31T23:59:59.999Z.
_YEARS_1_TO_9999 = (-62_135_596_800_000, 253_402_300_799_999)


def _within_years(column: pa.ChunkedArray) -> bool:
    """Whether every time in ``column`` (a timestamp column) is in the years 1 to 9999 (UTC)."""
    millis = pc.cast(pc.cast(column, pa.timestamp("ms", tz="UTC")), pa.int64())
    bounds = pc.min_max(millis).as_py()
    low, high = _YEARS_1_TO_9999
    return bounds["min"] is None or (bounds["min"] >= low and bounds["max"] <= high)


def _json_type(value: Any) -> str:
    names = {list: "array", str: "string", bool: "boolean", int: "number", float: "number"}
    return "null" if value is None else names.get(type(value), type(value).__name__)


def _collect_new_fields(parsed: Iterable[dict[str, Any]], registry: SchemaRegistry, seen: dict[str, list[Any]]) -> None:
    """Add to ``seen`` the fields the registry does not know, with the families of their values, in first-seen order."""
    for obj in parsed:
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
