"""Running one query: classify it, resolve its tables through the catalog, let DuckDB run it in a worker thread
(interrupted when the execution is cancelled), and write its result file. CTAS writes Parquet, a manifest and a
new catalog table instead, as Athena does."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import threading
from typing import TYPE_CHECKING, Any

import orjson
import pyarrow as pa

from emulator.athena.ctas import write_ctas
from emulator.athena.engine import TableFiles, connect
from emulator.athena.errors import QueryFailed
from emulator.athena.outcome import Outcome
from emulator.athena.pruning import pruned, query_filter
from emulator.athena.results import ColumnInfo, columns_of, csv_bytes, rows_from_csv, text_rows
from emulator.athena.statements import Statement, classify, split_name, table_references
from emulator.lake.objects import Location, LocationError, list_objects
from emulator.lake.patterns import PatternError, name_pattern
from emulator.lake.tables import ResolvedTable

if TYPE_CHECKING:
    from emulator.athena.service import CatalogReader

log = logging.getLogger(__name__)

DATA_SUFFIXES = (".parquet",)


def _hidden(relative: str) -> bool:
    return any(part.startswith(("_", ".")) for part in relative.split("/") if part)


class QueryRunner:
    """Runs queries against ``catalog``'s tables, reading and writing S3 through ``s3`` (pyarrow's filesystem)."""

    def __init__(self, catalog: CatalogReader, s3: Any | None, memory_limit: str, threads: int) -> None:
        self._catalog = catalog
        self._s3 = s3
        self._memory_limit = memory_limit
        self._threads = threads

    def _require_s3(self) -> Any:
        if self._s3 is None:
            raise QueryFailed("No S3 is configured for this endpoint: queries cannot read tables or write results.")
        return self._s3

    async def run(
        self, execution_id: str, query: str, database: str, output_prefix: str, *, preview: int | None = None
    ) -> Outcome:
        """Run ``query`` and write its result under ``output_prefix``. ``preview``: write nothing, return at most
        that many rows (DuckDB stops there), and refuse CREATE TABLE AS (the live page's read-only SQL box)."""
        statement = await asyncio.to_thread(_classify, query)
        if preview is not None and statement.kind == "ctas":
            raise QueryFailed(
                "Only read-only statements run here (SELECT, WITH, VALUES, EXPLAIN, SHOW, DESCRIBE); CREATE TABLE AS "
                "writes to the lake: run it through the Athena API or kemu lake sql."
            )
        write = preview is None
        if statement.kind == "show_databases":
            names = self._catalog.database_names()
            return self._write_text(execution_id, output_prefix, "database_name", _like(names, statement.like), write)
        if statement.kind == "show_tables":
            db = statement.database or database
            tables = self._catalog.table_names(db)
            if tables is None:
                raise QueryFailed(f"SCHEMA_NOT_FOUND: Schema '{db}' does not exist")
            return self._write_text(execution_id, output_prefix, "tab_name", _like(tables, statement.like), write)
        if statement.kind == "describe":
            table = self._resolve_one(statement.database or database, statement.table or "")
            lines = [f"{c}\t{t}" for c, t in table.columns + table.partition_keys]
            return self._write_text(execution_id, output_prefix, "col_name", lines, write)
        s3 = self._require_s3()
        references = await asyncio.to_thread(_references, statement.sql)
        found = [self._catalog.resolve(schema or database, name) for schema, name in references]
        resolved = [_pruned(t, statement.sql) for t in found if t is not None]
        files = await asyncio.to_thread(self._files, s3, resolved)
        if statement.kind == "ctas":
            return await self._ctas(s3, execution_id, statement, database, output_prefix, files)
        result, scanned = await self._execute(s3, statement.sql, database, files, preview)
        columns = columns_of(result.schema)
        rows = await asyncio.to_thread(text_rows, result)
        location = f"{output_prefix}{execution_id}.csv"
        if write:
            await asyncio.to_thread(self._write_result, s3, location, columns, rows)
        return Outcome(columns, rows, "DML", scanned, None, location)

    def _resolve_one(self, database: str, name: str) -> ResolvedTable:
        table = self._catalog.resolve(database, name)
        if table is None:
            raise QueryFailed(f"TABLE_NOT_FOUND: Table '{database}.{name}' does not exist")
        return table

    def _files(self, s3: Any, tables: list[ResolvedTable]) -> list[TableFiles]:
        out = []
        for table in tables:
            places: list[tuple[tuple[str, ...], str | None]] = (
                table.partitions if table.partition_keys else [((), table.location)]
            )
            objects = []
            for values, where in places:
                if where is None:
                    continue
                try:
                    location = Location.parse(where)
                except LocationError as exc:
                    raise QueryFailed(f"Table {table.database}.{table.name}: {exc}") from None
                for info in list_objects(s3, location):
                    if info.relative.lower().endswith(DATA_SUFFIXES) and not _hidden(info.relative):
                        objects.append((values, info))
            out.append(TableFiles(table, objects))
        return out

    async def _execute(
        self, s3: Any, sql: str, database: str, files: list[TableFiles], limit: int | None = None
    ) -> tuple[pa.Table, int]:
        """Run ``sql`` in a thread (its first ``limit`` rows only, when given); a cancellation interrupts DuckDB and
        waits for the thread to let go."""
        holder: dict[str, Any] = {}
        done = threading.Event()
        # A stop can come before the connection exists (opening the tables' footers takes a while): the thread
        # looks at this once connected, and the stopping side interrupts until the thread lets go.
        stopped = threading.Event()

        def work() -> tuple[pa.Table, int]:
            import duckdb

            try:
                connection, lake = connect(s3, files, database, self._memory_limit, self._threads)
                holder["connection"] = connection
                try:
                    if stopped.is_set():
                        raise QueryFailed("The query was stopped.")
                    relation = connection.sql(sql)
                    table = (relation if limit is None else relation.limit(limit)).to_arrow_table()
                    return table, lake.scanned_bytes()
                finally:
                    connection.close()
            except duckdb.Error as exc:
                raise QueryFailed(_duck_message(exc)) from None
            finally:
                done.set()

        task = asyncio.ensure_future(asyncio.to_thread(work))
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            stopped.set()
            while not done.is_set():
                connection = holder.get("connection")
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.interrupt()
                # An interrupt that lands between the check above and the start of the query is lost: repeat it.
                await asyncio.to_thread(done.wait, 0.1)
            with contextlib.suppress(BaseException):
                await task
            raise

    def _write_result(self, s3: Any, location: str, columns: list[ColumnInfo], rows: list[list[str | None]]) -> None:
        data = csv_bytes([c.name for c in columns], rows)
        metadata = orjson.dumps({"ColumnInfo": [c.render() for c in columns]})
        self._put(s3, location, data)
        self._put(s3, location + ".metadata", metadata)

    def _put(self, s3: Any, uri: str, data: bytes) -> None:
        location = Location.parse(uri.rsplit("/", 1)[0] + "/")
        path = f"{location.arrow_path}/{uri.rsplit('/', 1)[1]}"
        try:
            with s3.open_output_stream(path) as out:
                out.write(data)
        except OSError as exc:
            raise QueryFailed(f"The result could not be written to {uri}: {str(exc).splitlines()[0]}", 1) from None

    def _write_text(
        self, execution_id: str, output_prefix: str, header: str, lines: list[str], write: bool = True
    ) -> Outcome:
        columns = [ColumnInfo(header, "varchar")]
        rows: list[list[str | None]] = [[line] for line in lines]
        location = f"{output_prefix}{execution_id}.txt"
        if self._s3 is not None and write:
            self._put(self._s3, location, "".join(f"{line}\n" for line in lines).encode())
        return Outcome(columns, rows, "UTILITY", 0, None, location, with_header=False)

    async def read_back(self, location: str) -> list[list[str | None]]:
        """The rows of a result file already written (results no longer kept in memory)."""
        s3 = self._require_s3()

        def read() -> list[list[str | None]]:
            parsed = Location.parse(location.rsplit("/", 1)[0] + "/")
            with s3.open_input_stream(f"{parsed.arrow_path}/{location.rsplit('/', 1)[1]}") as handle:
                data = handle.read()
            if location.endswith(".txt"):
                return [[line] for line in data.decode().splitlines()]
            return rows_from_csv(data)[1]

        try:
            return await asyncio.to_thread(read)
        except (OSError, LocationError) as exc:
            raise QueryFailed(f"The result file {location} could not be read: {exc}") from None

    async def _ctas(
        self,
        s3: Any,
        execution_id: str,
        statement: Statement,
        database: str,
        output_prefix: str,
        files: list[TableFiles],
    ) -> Outcome:
        result, scanned = await self._execute(s3, statement.sql, database, files)
        target_db = statement.database or database
        if self._catalog.table_names(target_db) is None:
            raise QueryFailed(f"SCHEMA_NOT_FOUND: Schema '{target_db}' does not exist")
        if self._catalog.resolve(target_db, statement.table or "") is not None:
            raise QueryFailed(f"TABLE_ALREADY_EXISTS: Table '{target_db}.{statement.table}' already exists")
        outcome, table, parameters = await asyncio.to_thread(
            write_ctas, s3, execution_id, statement, target_db, output_prefix, result if statement.with_data else
            result.slice(0, 0),
        )  # fmt: skip
        await self._catalog.register_table(table, parameters)
        outcome.scanned_bytes = scanned
        return outcome


def _classify(query: str) -> Statement:
    import duckdb

    statement = classify(query, ["SELECT"]) if _is_special(query) else None
    if statement is not None:
        return statement
    connection = duckdb.connect(":memory:")
    try:
        kinds = [s.type.name for s in connection.extract_statements(query)]
    except duckdb.Error as exc:
        raise QueryFailed(f"SYNTAX_ERROR: {_duck_message(exc)}") from None
    finally:
        connection.close()
    return classify(query, kinds)


def _is_special(query: str) -> bool:
    head = query.lstrip().split(None, 2)
    first = head[0].lower() if head else ""
    return first in ("show", "describe", "desc") or (first == "create" and len(head) > 1 and head[1].lower() == "table")


def _serialized(sql: str) -> str:
    """DuckDB's syntax tree of ``sql`` as JSON."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        serialized: str = connection.execute("SELECT json_serialize_sql(?)", [sql]).fetchall()[0][0]
    finally:
        connection.close()
    return serialized


def _references(sql: str) -> list[tuple[str | None, str]]:
    return table_references(_serialized(sql))


def _pruned(table: ResolvedTable, sql: str) -> ResolvedTable:
    """``table`` with only the partitions the query's WHERE may need (:mod:`emulator.athena.pruning`)."""
    if not table.partition_keys:
        return table
    where = query_filter(_serialized(sql))
    if where is None or where.table != table.name or where.schema not in (None, table.database):
        return table
    kept = pruned(table.partition_keys, table.partitions, list(where.conditions))
    return dataclasses.replace(table, partitions=kept)


def _duck_message(exc: BaseException) -> str:
    text = str(exc).strip()
    return text[:2000]


def _like(names: list[str], pattern: str | None) -> list[str]:
    if not pattern:
        return sorted(names)
    try:
        matches = name_pattern(pattern)
    except PatternError as exc:
        raise QueryFailed(f"SHOW: {exc}") from None
    return sorted(n for n in names if matches(n))


__all__ = ["Outcome", "QueryRunner", "split_name"]
