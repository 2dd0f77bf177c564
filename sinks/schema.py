"""The columns of a delivery stream: declared in configuration, or inferred and only ever extended.

An inferred schema is a registry of field → type that grows as new fields appear (a new optional field becomes a
new column in later objects). A field keeps the type it was first seen with; a later value of another type is a
conflict, and that record goes to the error prefix. The registry is saved to S3 before the objects that use it,
so a replay after a crash converts the same records to the same columns.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import orjson
import pyarrow as pa

from sinks.config import FieldType
from sinks.exceptions import ConversionError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1

ARROW_TYPES: dict[FieldType, pa.DataType] = {
    FieldType.STRING: pa.string(),
    FieldType.BIGINT: pa.int64(),
    FieldType.DOUBLE: pa.float64(),
    FieldType.BOOLEAN: pa.bool_(),
    FieldType.TIMESTAMP: pa.timestamp("ms", tz="UTC"),
    FieldType.JSON: pa.string(),
}

#: Arrow types pyarrow's JSON reader infers that map one-to-one onto ours.
_INFERRED: dict[pa.DataType, FieldType] = {
    pa.string(): FieldType.STRING,
    pa.int64(): FieldType.BIGINT,
    pa.float64(): FieldType.DOUBLE,
    pa.bool_(): FieldType.BOOLEAN,
}


def inferred_type(arrow_type: pa.DataType) -> FieldType | None:
    """Our type for a column pyarrow inferred, or ``None`` when it needs the per-record path (nested values)."""
    return _INFERRED.get(arrow_type)


def family_of(value: Any) -> FieldType | None:
    """The type a JSON value would give a new field; ``None`` for null."""
    if value is None:
        return None
    if isinstance(value, bool):
        return FieldType.BOOLEAN
    if isinstance(value, int):
        return FieldType.BIGINT
    if isinstance(value, float):
        return FieldType.DOUBLE
    if isinstance(value, str):
        return FieldType.STRING
    return FieldType.JSON


def merge_families(families: list[FieldType]) -> FieldType:
    """The type of a new field from the types its values show in one batch: numbers widen to double, otherwise
    the first one seen wins (the others are conflicts)."""
    if set(families) <= {FieldType.BIGINT, FieldType.DOUBLE}:
        return FieldType.DOUBLE if FieldType.DOUBLE in families else FieldType.BIGINT
    return families[0]


def out_of_years(field: str, value: str) -> str:
    """The reason for a timestamp outside what a ``timestamp`` column's readers can all represent."""
    return f"field {field!r}: {value[:64]!r} is outside the years 1 to 9999 in UTC"


def convert(field: str, value: Any, kind: FieldType) -> Any:
    """``value`` as a Python value for a column of ``kind``; :class:`ConversionError` on a type conflict."""
    if value is None:
        return None
    if kind is FieldType.JSON:
        try:
            return orjson.dumps(value).decode()
        except orjson.JSONEncodeError as exc:  # nested deeper than orjson writes (254 levels)
            raise ConversionError(f"field {field!r}: nested too deeply to keep as JSON text ({exc})") from None
    got = family_of(value)
    if kind is FieldType.DOUBLE and got in (FieldType.BIGINT, FieldType.DOUBLE):
        return float(value)
    if kind is FieldType.TIMESTAMP and isinstance(value, str):
        try:
            parsed = datetime.fromisoformat(value)
        except ValueError:
            raise ConversionError(f"field {field!r}: {value[:64]!r} is not an ISO-8601 timestamp") from None
        try:
            return parsed.astimezone(UTC) if parsed.tzinfo else parsed.replace(tzinfo=UTC)
        except OverflowError:
            raise ConversionError(out_of_years(field, value)) from None
    if got is kind:
        if kind is FieldType.BIGINT and not INT64_MIN <= value <= INT64_MAX:
            raise ConversionError(f"field {field!r}: {value} does not fit a 64-bit integer")
        return value
    raise ConversionError(
        f"type conflict: field {field!r} is {kind.value} in the schema, got {got.value if got else '?'}"
    )


class SchemaRegistry:
    """Field → type, in the order fields were first seen; ``declared`` ones never grow."""

    def __init__(self, fields: dict[str, FieldType] | None = None, declared: bool = False) -> None:
        self.fields: dict[str, FieldType] = dict(fields or {})
        self.declared = declared
        self.dirty = False

    def add(self, field: str, kind: FieldType) -> None:
        if field not in self.fields:
            self.fields[field] = kind
            self.dirty = True

    def arrow_schema(self) -> pa.Schema:
        return pa.schema([(name, ARROW_TYPES[kind]) for name, kind in self.fields.items()])

    def has_per_record_types(self) -> bool:
        """Whether some column needs per-record conversion (pyarrow's JSON reader cannot produce it)."""
        return any(kind is FieldType.JSON for kind in self.fields.values())

    def to_json(self) -> bytes:
        return orjson.dumps({"fields": [[name, kind.value] for name, kind in self.fields.items()]})

    @classmethod
    def from_json(cls, data: bytes) -> SchemaRegistry:
        parsed = orjson.loads(data)
        return cls({name: FieldType(kind) for name, kind in parsed["fields"]})
