"""``kemu lake``: the Glue catalog and Athena-style SQL from a shell, in-process (no endpoint needs to run).

The commands read and write the same catalog topic as the endpoint's Glue API (which follows it), and query with
the same engine as its Athena API, so what ``kemu lake crawl`` registers is at once visible to boto3 and awswrangler
pointed at the endpoint, and the other way round.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import Annotated, Any, TypeVar

import typer
from rich.table import Table

from emulator.cli.app import console, settings_of
from emulator.cli.sql import Format, _print
from emulator.endpoints import kafka_bootstrap, require_s3
from emulator.exceptions import EmulatorError

lake_app = typer.Typer(no_args_is_help=True, help="The lake: Glue tables, crawls of S3 paths, Athena-style SQL.")
T = TypeVar("T")

DatabaseOption = Annotated[str, typer.Option("--database", "-d", help="Glue database (created by crawl if missing).")]


class LakeError(EmulatorError):
    """A catalog operation or a query failed."""


def _with_lake(ctx: typer.Context, action: Callable[[Any, Any], Awaitable[T]]) -> T:
    """Run ``action(glue_api, reader)`` with the catalog read back from its topic, and stop it after."""
    from emulator.edge.lake import GlueCatalogReader
    from emulator.glue.api import GlueApi

    settings = settings_of(ctx)
    bootstrap = kafka_bootstrap(settings, "read the lake's catalog from")
    target = require_s3(settings, "read the lake")

    async def run() -> T:
        logging.getLogger("aiokafka").setLevel(logging.WARNING)  # it logs every subscription change at INFO
        glue = GlueApi(settings.kinesis.glue, bootstrap, target.connection(), settings.kinesis.account_id)
        await glue.start()
        try:
            return await action(glue, GlueCatalogReader(glue.catalog))
        finally:
            await glue.stop()

    from emulator.glue.errors import GlueError

    try:
        return asyncio.run(run())
    except GlueError as exc:
        raise LakeError(exc.message) from None


@lake_app.command("tables")
def tables(ctx: typer.Context, database: DatabaseOption = "kemu") -> None:
    """The tables of a database: location, columns, partitions and the row count of the last crawl."""

    async def action(glue: Any, _reader: Any) -> list[Any]:
        glue.catalog.database(database)
        return [t for (d, _), t in sorted(glue.store.state.tables.items()) if d == database.lower()]

    found = _with_lake(ctx, action)
    table = Table("table", "location", "columns", "partition keys", "rows (crawled)")
    for t in found:
        table.add_row(
            t.name, t.location or "", str(len(t.columns)), ", ".join(k["Name"] for k in t.partition_keys),
            t.parameters.get("recordCount", ""),
        )  # fmt: skip
    console.print(table)


@lake_app.command("partitions")
def partitions(
    ctx: typer.Context,
    table: Annotated[str, typer.Argument(help="Table name (or database.table).")],
    database: DatabaseOption = "kemu",
    expression: Annotated[str, typer.Option("--expression", "-e", help="GetPartitions expression.")] = "",
) -> None:
    """The partitions of a table: values and location."""
    db, name = table.split(".", 1) if "." in table else (database, table)

    async def action(glue: Any, _reader: Any) -> dict[str, Any]:
        result: dict[str, Any] = await glue.catalog.get_partitions(db, name, expression, None, 1_000_000)
        return result

    found = _with_lake(ctx, action)["Partitions"]
    out = Table("values", "location")
    for p in found:
        out.add_row("/".join(p["Values"]), p["StorageDescriptor"].get("Location", ""))
    console.print(out)
    typer.echo(f"{len(found)} partition{'s' if len(found) != 1 else ''}")


@lake_app.command("crawl")
def crawl(
    ctx: typer.Context,
    path: Annotated[str, typer.Argument(help="S3 path whose Parquet objects make one table, e.g. s3://kemu/x/.")],
    database: DatabaseOption = "kemu",
) -> None:
    """Crawl an S3 path now: create or extend its table, add new partitions, and say what changed."""
    from emulator.glue.crawlers import parse_crawler

    async def action(glue: Any, _reader: Any) -> list[Any]:
        if database.lower() not in glue.store.state.databases:
            await glue.catalog.create_database({"Name": database})
        definition = parse_crawler(
            {"Name": "kemu-lake-cli", "DatabaseName": database, "Targets": {"S3Targets": [{"Path": path}]}}
        )
        reports: list[Any] = await glue.crawlers.run_now(definition)
        return reports

    for report in _with_lake(ctx, action):
        if report.table is None:
            raise LakeError(f"{report.path}: {'; '.join(report.conflicts) or 'nothing found'}")
        verb = "created" if report.created else ("updated" if report.changed else "unchanged")
        typer.echo(
            f"{database}.{report.table} {verb}: {report.objects} objects, {report.records} rows, "
            f"{len(report.partitions_added)} partitions added ({report.partitions_total} in all)"
        )
        for column in report.columns_added if not report.created else []:
            typer.echo(f"  column added: {column}")
        for change in report.columns_widened:
            typer.echo(f"  column widened: {change}")
        for problem in report.conflicts:
            typer.echo(f"  conflict: {problem}")
        for key, why in sorted(report.left_out.items())[:20]:
            typer.echo(f"  left out: {key}: {why}")


@lake_app.command("sql")
def sql(
    ctx: typer.Context,
    query: Annotated[str, typer.Argument(help="One read-only statement; tables are the catalog's.")],
    database: DatabaseOption = "kemu",
    output: Annotated[Format, typer.Option("--format", help="How to print the rows.")] = Format.table,
) -> None:
    """Run Athena-style SQL on the catalog's tables (the same engine as the endpoint's Athena API)."""
    from emulator.athena.errors import QueryFailed
    from emulator.athena.runner import QueryRunner
    from emulator.lake.objects import arrow_s3

    settings = settings_of(ctx)
    target = require_s3(settings, "query the lake")
    athena = settings.kinesis.with_result_bucket(target.bucket).athena
    import uuid

    async def action(_glue: Any, reader: Any) -> Any:
        runner = QueryRunner(reader, arrow_s3(target.connection()), athena.memory_limit, athena.threads)
        return await runner.run(str(uuid.uuid4()), query, database.lower(), athena.output_location or "")

    try:
        outcome = _with_lake(ctx, action)
    except QueryFailed as exc:
        raise LakeError(exc.message) from None
    _print([c.name for c in outcome.columns], [tuple(r) for r in outcome.rows], output)
