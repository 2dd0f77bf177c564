"""``kemu sql``: DuckDB SQL with ``s3://`` paths on the configured S3 (the embedded MinIO by default), offline."""

from __future__ import annotations

import csv
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import orjson
import typer
from rich.console import Console
from rich.table import Table

from emulator.cli.app import app, settings_of
from emulator.endpoints import require_s3
from emulator.exceptions import ConfigurationError, EmulatorError


class SqlError(EmulatorError):
    """DuckDB refused or failed a statement."""


class Format(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


@app.command("sql")
def sql(
    ctx: typer.Context,
    query: Annotated[
        str | None, typer.Argument(help="SQL to run (DuckDB dialect); several statements may follow.")
    ] = None,
    file: Annotated[Path | None, typer.Option("--file", "-f", help="Read the SQL from this file instead.")] = None,
    output: Annotated[Format, typer.Option("--format", help="How to print the last statement's rows.")] = Format.table,
) -> None:
    """Query what landed in S3 with DuckDB: read_parquet('s3://kemu/firehose/**/*.parquet') and friends, no download."""
    if (query is None) == (file is None):
        raise ConfigurationError("give the SQL either as an argument or with --file, not both or neither")
    if file is not None and not file.is_file():
        raise ConfigurationError(f"SQL file {file} does not exist")
    text = query if query is not None else file.read_text(encoding="utf-8")  # type: ignore[union-attr]
    target = require_s3(settings_of(ctx), "query")
    import duckdb

    from emulator.duck import connect

    connection = connect(target)
    try:
        relation: duckdb.DuckDBPyRelation | None = connection.sql(text)
        if relation is None:  # the last statement returns no rows (CREATE, COPY, ...)
            return
        columns = list(relation.columns)
        rows = relation.fetchall()
    except duckdb.Error as exc:
        raise SqlError(f"DuckDB: {str(exc).strip()}") from exc
    finally:
        connection.close()
    _print(columns, rows, output)


def _print(columns: list[str], rows: list[tuple[Any, ...]], output: Format) -> None:
    if output is Format.csv:
        writer = csv.writer(sys.stdout)
        writer.writerow(columns)
        writer.writerows(rows)
    elif output is Format.json:
        for row in rows:
            typer.echo(orjson.dumps(dict(zip(columns, row, strict=True)), default=str).decode())
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*("NULL" if v is None else str(v) for v in row))
        Console().print(table)
        typer.echo(f"{len(rows)} row{'s' if len(rows) != 1 else ''}")
