"""``CREATE TABLE name WITH (format = 'PARQUET', external_location = '…') AS SELECT …``: the result written as
Parquet under the external location, a manifest listing the files (``<OutputLocation><id>-manifest.csv``, what
awswrangler's default path reads), and the table to register in the catalog."""

from __future__ import annotations

import io
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from emulator.athena.errors import QueryFailed
from emulator.athena.outcome import Outcome
from emulator.athena.results import ColumnInfo
from emulator.athena.statements import Statement
from emulator.lake.objects import Location, LocationError
from emulator.lake.tables import ResolvedTable
from emulator.lake.types import hive_type

COMPRESSIONS = {"SNAPPY": "snappy", "ZSTD": "zstd", "GZIP": "gzip", "NONE": "none", "UNCOMPRESSED": "none"}
SUPPORTED = {"format", "external_location", "parquet_compression", "write_compression"}


def write_ctas(
    s3: Any, execution_id: str, statement: Statement, database: str, output_prefix: str, result: pa.Table
) -> tuple[Outcome, ResolvedTable, dict[str, str]]:
    props = statement.properties
    unknown = sorted(set(props) - SUPPORTED)
    if unknown:
        raise QueryFailed(f"CREATE TABLE AS: the table properties {', '.join(unknown)} are not supported here.")
    if str(props.get("format", "PARQUET")).upper() != "PARQUET":
        raise QueryFailed("CREATE TABLE AS writes Parquet only here (format = 'PARQUET').")
    compression = str(props.get("parquet_compression") or props.get("write_compression") or "SNAPPY").upper()
    if compression not in COMPRESSIONS:
        raise QueryFailed(f"CREATE TABLE AS: unknown compression {compression!r}.")
    table_name = statement.table or ""
    external = props.get("external_location") or f"{output_prefix}tables/{execution_id}/"
    try:
        location = Location.parse(str(external))
    except LocationError as exc:
        raise QueryFailed(f"CREATE TABLE AS: external_location: {exc}") from None
    if any(part.startswith(("_", ".")) for part in location.prefix.split("/") if part):
        raise QueryFailed("CREATE TABLE AS: external_location may not have a part starting with '_' or '.'.")
    paths: list[str] = []
    if result.num_rows:
        buffer = io.BytesIO()
        pq.write_table(result, buffer, compression=COMPRESSIONS[compression])
        name = f"{execution_id}_00000.parquet"
        _put(s3, f"{location.arrow_path}/{name}", buffer.getvalue())
        paths.append(f"{location.uri}{name}")
    manifest = f"{output_prefix}{execution_id}-manifest.csv"
    _put(s3, _arrow_path(manifest), "".join(f"{p}\n" for p in paths).encode())
    _put(s3, _arrow_path(f"{output_prefix}{execution_id}.metadata"), b"{}")
    columns = [(f.name.lower(), hive_type(f.type)) for f in result.schema]
    table = ResolvedTable(database, table_name, location.uri, columns, [])
    parameters = {"classification": "parquet", "has_encrypted_data": "false", "parquet.compression": compression}
    outcome = Outcome(
        [ColumnInfo("rows", "bigint")], [[str(result.num_rows)]], "DDL", 0, manifest,
        f"{output_prefix}tables/{execution_id}",
    )  # fmt: skip
    return outcome, table, parameters


def _arrow_path(uri: str) -> str:
    head, name = uri.rsplit("/", 1)
    return f"{Location.parse(head + '/').arrow_path}/{name}"


def _put(s3: Any, path: str, data: bytes) -> None:
    try:
        with s3.open_output_stream(path) as out:
            out.write(data)
    except OSError as exc:
        raise QueryFailed(f"CREATE TABLE AS could not write s3://{path}: {str(exc).splitlines()[0]}", 1) from None
