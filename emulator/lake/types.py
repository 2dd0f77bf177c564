"""Arrow types in Glue's (Hive's) names, one rule for the crawler and for Athena's CREATE TABLE AS (pure)."""

from __future__ import annotations

import re

import pyarrow as pa


def hive_type(arrow_type: pa.DataType) -> str:
    """The Hive/Glue name of an Arrow type."""
    t = arrow_type
    if pa.types.is_boolean(t):
        return "boolean"
    if pa.types.is_int8(t):
        return "tinyint"
    if pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint"
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "int"
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint"
    if pa.types.is_uint64(t):
        return "decimal(20,0)"
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "float"
    if pa.types.is_float64(t):
        return "double"
    if pa.types.is_decimal(t):
        return f"decimal({t.precision},{t.scale})"
    if pa.types.is_timestamp(t):
        return "timestamp"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "binary"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return f"array<{hive_type(t.value_type)}>"
    if pa.types.is_map(t):
        return f"map<{hive_type(t.key_type)},{hive_type(t.item_type)}>"
    if pa.types.is_struct(t):
        return (
            "struct<" + ",".join(f"{t.field(i).name}:{hive_type(t.field(i).type)}" for i in range(t.num_fields)) + ">"
        )
    return "string"


#: Glue column types a delivery stream can write from JSON records, as the sink's field types. Other types (date,
#: decimal, binary, arrays, maps, structs) would need conversions the sink does not make, so such a table is refused.
_SINK_TYPES = {
    "string": "string",
    "tinyint": "bigint",
    "smallint": "bigint",
    "int": "bigint",
    "integer": "bigint",
    "bigint": "bigint",
    "float": "double",
    "double": "double",
    "boolean": "boolean",
    "timestamp": "timestamp",
}
_TEXT = re.compile(r"(?:varchar|char)\(\d+\)")


def sink_type(glue_type: str) -> str | None:
    """The sink's field type (a :class:`sinks.FieldType` value) for a Glue column type, or None when the sink cannot
    write it."""
    kind = glue_type.strip().lower()
    if _TEXT.fullmatch(kind):
        return "string"
    return _SINK_TYPES.get(kind)


def sink_types() -> list[str]:
    """The Glue types :func:`sink_type` accepts, for messages."""
    return [*_SINK_TYPES, "varchar(n)", "char(n)"]
