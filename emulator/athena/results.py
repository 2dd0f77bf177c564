"""A query's result as Athena gives it (pure): column info with Athena's type names, every value as the text
Athena prints, the CSV file of the output location, and pages of GetQueryResults.

Text forms follow Athena (Trino): ``true``/``false``, timestamps ``2026-01-02 03:04:05.678`` (UTC for a time with a
zone), doubles as Java prints them (``1.0E-5``, ``NaN``, ``Infinity``), arrays ``[1, 2]``, maps and rows
``{a=1, b=2}``, binary as hex pairs. In the CSV every value is double-quoted and NULL is an empty, unquoted field.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pyarrow as pa


@dataclass(frozen=True)
class ColumnInfo:
    name: str
    type: str
    precision: int = 0
    scale: int = 0

    def render(self) -> dict[str, Any]:
        return {
            "CatalogName": "hive",
            "SchemaName": "",
            "TableName": "",
            "Name": self.name,
            "Label": self.name,
            "Type": self.type,
            "Precision": self.precision,
            "Scale": self.scale,
            "Nullable": "UNKNOWN",
            "CaseSensitive": self.type in ("varchar", "char"),
        }


def athena_type(arrow_type: pa.DataType) -> tuple[str, int, int]:
    """Athena's type name, precision and scale of an Arrow type."""
    t = arrow_type
    if pa.types.is_boolean(t):
        return "boolean", 0, 0
    if pa.types.is_int8(t):
        return "tinyint", 3, 0
    if pa.types.is_int16(t) or pa.types.is_uint8(t):
        return "smallint", 5, 0
    if pa.types.is_int32(t) or pa.types.is_uint16(t):
        return "integer", 10, 0
    if pa.types.is_int64(t) or pa.types.is_uint32(t):
        return "bigint", 19, 0
    if pa.types.is_uint64(t):
        return "decimal", 20, 0
    if pa.types.is_float16(t) or pa.types.is_float32(t):
        return "float", 17, 0
    if pa.types.is_float64(t):
        return "double", 17, 0
    if pa.types.is_decimal(t):
        return "decimal", t.precision, t.scale
    if pa.types.is_timestamp(t):
        return "timestamp", 3, 0
    if pa.types.is_date(t):
        return "date", 0, 0
    if pa.types.is_time(t):
        return "time", 0, 0
    if pa.types.is_binary(t) or pa.types.is_large_binary(t) or pa.types.is_fixed_size_binary(t):
        return "varbinary", 1073741824, 0
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return "array", 0, 0
    if pa.types.is_map(t):
        return "map", 0, 0
    if pa.types.is_struct(t):
        return "row", 0, 0
    return "varchar", 2147483647, 0


def columns_of(schema: pa.Schema) -> list[ColumnInfo]:
    return [ColumnInfo(f.name, *athena_type(f.type)) for f in schema]


def java_double(value: float) -> str:
    """``value`` as Java's ``Double.toString`` writes it (what Athena prints)."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "Infinity" if value > 0 else "-Infinity"
    if value == 0:
        return "-0.0" if math.copysign(1, value) < 0 else "0.0"
    if 1e-3 <= abs(value) < 1e7:
        shown = repr(value)
        return shown if "." in shown else shown + ".0"
    sign, digits, exponent = Decimal(repr(value)).as_tuple()
    if not isinstance(exponent, int):  # pragma: no cover - NaN and infinities were returned above
        return repr(value)
    places = "".join(map(str, digits)).rstrip("0") or "0"
    return f"{'-' if sign else ''}{places[0]}.{places[1:] or '0'}E{exponent + len(digits) - 1}"


def text(value: Any) -> str | None:
    """One value as Athena prints it; None stays None (NULL)."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return java_double(value)
    if isinstance(value, int | Decimal | str):
        return str(value)
    if isinstance(value, dt.datetime):
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        stamp: str = value.strftime("%Y-%m-%d %H:%M:%S.")
        return stamp + f"{value.microsecond // 1000:03d}"
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, bytes):
        return " ".join(f"{b:02x}" for b in value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}={_nested(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        if value and all(isinstance(v, tuple) and len(v) == 2 for v in value):  # a map, as pyarrow gives it
            return "{" + ", ".join(f"{_nested(k)}={_nested(v)}" for k, v in value) + "}"
        return "[" + ", ".join(_nested(v) for v in value) + "]"
    return str(value)


def _nested(value: Any) -> str:
    shown = text(value)
    return "null" if shown is None else shown


def text_rows(table: pa.Table) -> list[list[str | None]]:
    """Every row of ``table`` as Athena's texts."""
    columns: list[list[Any]] = [column.to_pylist() for column in table.columns]
    convert: Callable[[Any], str | None] = text
    return [[convert(column[i]) for column in columns] for i in range(table.num_rows)]


def csv_line(values: Iterable[str | None]) -> str:
    return ",".join("" if v is None else '"' + v.replace('"', '""') + '"' for v in values) + "\n"


def csv_bytes(header: list[str], rows: list[list[str | None]]) -> bytes:
    """The result file Athena writes: a header of column names, then the rows."""
    parts = [csv_line(header)]
    parts.extend(csv_line(row) for row in rows)
    return "".join(parts).encode("utf-8")


def result_page(
    columns: list[ColumnInfo], rows: list[list[str | None]], start: int, limit: int, with_header: bool
) -> tuple[dict[str, Any], int | None]:
    """One page of GetQueryResults from row ``start`` (the header row first on the first page of a SELECT, as
    Athena does), and where the next page starts (None at the end)."""
    out_rows: list[dict[str, Any]] = []
    if start == 0 and with_header:
        out_rows.append({"Data": [{"VarCharValue": c.name} for c in columns]})
        limit -= 1
    chosen = rows[start : start + max(limit, 0)]
    out_rows += [{"Data": [{} if v is None else {"VarCharValue": v} for v in row]} for row in chosen]
    end = start + len(chosen)
    page = {"Rows": out_rows, "ResultSetMetadata": {"ColumnInfo": [c.render() for c in columns]}}
    return page, end if end < len(rows) else None


def rows_from_csv(data: bytes) -> tuple[list[str], list[list[str | None]]]:
    """The header and rows of a result file written by :func:`csv_bytes` (an unquoted empty field is NULL)."""
    import pyarrow.csv as pacsv

    if not data.strip():
        return [], []
    header = pacsv.read_csv(pa.py_buffer(data), read_options=pacsv.ReadOptions(autogenerate_column_names=True))
    names = [str(v) for v in header.slice(0, 1).to_pylist()[0].values()] if header.num_rows else []
    table = pacsv.read_csv(
        pa.py_buffer(data),
        read_options=pacsv.ReadOptions(skip_rows=1, column_names=[f"c{i}" for i in range(len(names))]),
        convert_options=pacsv.ConvertOptions(
            column_types={f"c{i}": pa.string() for i in range(len(names))},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
            null_values=[""],
        ),
    )
    columns = [column.to_pylist() for column in table.columns]
    return names, [[column[i] for column in columns] for i in range(table.num_rows)]
