"""The live page's Lake panel: the Glue catalog's tables with their objects, rows and freshness, and a SQL box.

The API follows the catalog's compacted topic itself (as ``kemu lake`` does), so it needs no endpoint running. The
inventory lists each table's objects and reads each Parquet footer once (objects are written once per key; the row
count is kept by key and size), at most every ``inventory_s`` seconds. The SQL box runs Athena's engine in preview
mode: read-only statements only, at most ``max_rows`` rows, nothing written, and DuckDB locked down as for the
Athena API (no local files, no other hosts, no extensions).
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel, Field

from emulator.endpoints import S3Target

if TYPE_CHECKING:
    from emulator.glue.api import GlueApi
    from emulator.glue.model import TableDef

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LakeConfig:
    """What the panel reads and how much a query may take."""

    catalog_topic: str
    account_id: str = "000000000000"
    database: str = "kemu"
    max_rows: int = 200
    memory_limit: str = "1GB"
    threads: int = 1
    timeout_s: float = 60.0
    inventory_s: float = 5.0


class LakeTable(BaseModel):
    """One catalog table as the panel shows it."""

    database: str
    name: str
    location: str | None
    columns: int
    partition_keys: list[str]
    objects: int = Field(description="Parquet objects under the table's location")
    rows: int = Field(description="Rows in those objects, from their footers")
    bytes: int
    newest_object_ms: int | None = Field(description="When the newest object was written (epoch ms): freshness")
    problem: str | None = None


class LakeTablesAnswer(BaseModel):
    catalog_reachable: bool
    tables: list[LakeTable]


class LakeQuery(BaseModel):
    sql: str = Field(min_length=1, max_length=262_144)
    database: str | None = Field(default=None, pattern=r"^[A-Za-z0-9_-]{1,255}$")


class LakeQueryAnswer(BaseModel):
    columns: list[str]
    types: list[str]
    rows: list[list[str | None]]
    truncated: bool = Field(description="More rows than max_rows: only the first max_rows are here")
    max_rows: int
    scanned_bytes: int
    elapsed_ms: int


class LakeQueryError(Exception):
    """A statement the SQL box refuses or that failed; the message says why."""


class LakePanel:
    """A service component of the API (``start``/``stop``): the catalog, the inventory and the SQL box."""

    name = "lake-panel"

    def __init__(self, config: LakeConfig, bootstrap_servers: str, s3: S3Target) -> None:
        self._config = config
        self._bootstrap = bootstrap_servers
        self._s3 = s3
        self._glue: GlueApi | None = None
        self._filesystem: Any = None
        self._rows: dict[tuple[str, int], int] = {}
        self._inventory: tuple[float, LakeTablesAnswer] | None = None
        self._inventory_lock = asyncio.Lock()
        self._queries = asyncio.Semaphore(1)

    async def start(self) -> None:
        from emulator.config.glue import GlueSettings
        from emulator.glue.api import GlueApi
        from emulator.lake.objects import arrow_s3

        connection = self._s3.connection()
        glue = GlueApi(
            GlueSettings(catalog_topic=self._config.catalog_topic), self._bootstrap, connection,
            self._config.account_id,
        )  # fmt: skip
        await glue.start()
        self._glue = glue
        self._filesystem = arrow_s3(connection)

    async def stop(self) -> None:
        if self._glue is not None:
            await self._glue.stop()
            self._glue = None

    async def tables(self) -> LakeTablesAnswer:
        """Every table of the catalog with its objects, rows and newest object (cached ``inventory_s``)."""
        async with self._inventory_lock:
            now = time.monotonic()
            if self._inventory is not None and now - self._inventory[0] < self._config.inventory_s:
                return self._inventory[1]
            glue = self._glue
            if glue is None:
                return LakeTablesAnswer(catalog_reachable=False, tables=[])
            defs = [t for _, t in sorted(glue.store.state.tables.items())]
            tables = await asyncio.to_thread(self._inventory_of, defs)
            answer = LakeTablesAnswer(catalog_reachable=True, tables=tables)
            self._inventory = (now, answer)
            return answer

    def _inventory_of(self, defs: list[TableDef]) -> list[LakeTable]:
        from emulator.glue.crawl_rules import is_data_key
        from emulator.lake.objects import Location, LocationError, list_objects, read_footer

        out = []
        for table in defs:
            objects = []
            problem = None
            try:
                if table.location:
                    objects = [
                        o
                        for o in list_objects(self._filesystem, Location.parse(table.location))
                        if is_data_key(o.relative)
                    ]
            except (LocationError, OSError) as exc:
                problem = str(exc).splitlines()[0][:200]
            rows = 0
            for o in objects:
                key = (o.path, o.size)
                if key not in self._rows:
                    try:
                        self._rows[key] = read_footer(self._filesystem, o.path)[1]
                    except (OSError, ValueError):
                        self._rows[key] = 0  # not a readable Parquet file: a query would say so
                rows += self._rows[key]
            newest = max((o.mtime_ms for o in objects), default=None)
            out.append(
                LakeTable(
                    database=table.database, name=table.name, location=table.location,
                    columns=len(table.columns), partition_keys=[k["Name"] for k in table.partition_keys],
                    objects=len(objects), rows=rows, bytes=sum(o.size for o in objects),
                    newest_object_ms=newest, problem=problem,
                )
            )  # fmt: skip
        return out

    async def query(self, sql: str, database: str | None) -> LakeQueryAnswer:
        """The first ``max_rows`` rows of a read-only statement; :class:`LakeQueryError` with the reason otherwise."""
        from emulator.athena.errors import QueryFailed
        from emulator.athena.runner import QueryRunner
        from emulator.edge.lake import GlueCatalogReader

        glue = self._glue
        if glue is None:
            raise LakeQueryError("The lake's catalog is not loaded yet; try again in a moment.")
        limit = self._config.max_rows
        runner = QueryRunner(
            _ReadOnly(GlueCatalogReader(glue.catalog)), self._filesystem, self._config.memory_limit,
            self._config.threads,
        )  # fmt: skip
        started = time.monotonic()
        try:
            async with self._queries:
                outcome = await asyncio.wait_for(
                    runner.run(
                        str(uuid.uuid4()), sql, (database or self._config.database).lower(), "", preview=limit + 1
                    ),
                    self._config.timeout_s,
                )
        except QueryFailed as exc:
            raise LakeQueryError(exc.message) from None
        except TimeoutError:
            raise LakeQueryError(f"The query ran longer than {self._config.timeout_s:.0f} s and was stopped.") from None
        except (OSError, ValueError) as exc:  # S3 unreachable, a location the catalog holds that cannot be read
            raise LakeQueryError(f"The query could not read its tables: {str(exc).splitlines()[0][:300]}") from None
        rows = outcome.rows[:limit]
        return LakeQueryAnswer(
            columns=[c.name for c in outcome.columns], types=[c.type for c in outcome.columns], rows=rows,
            truncated=len(outcome.rows) > limit, max_rows=limit, scanned_bytes=outcome.scanned_bytes,
            elapsed_ms=int((time.monotonic() - started) * 1000),
        )  # fmt: skip


class _ReadOnly:
    """A catalog reader that cannot register tables: the SQL box never changes the catalog."""

    def __init__(self, reader: Any) -> None:
        self._reader = reader

    def resolve(self, database: str, table: str) -> Any:
        return self._reader.resolve(database, table)

    def database_names(self) -> list[str]:
        names: list[str] = self._reader.database_names()
        return names

    def table_names(self, database: str) -> list[str] | None:
        names: list[str] | None = self._reader.table_names(database)
        return names

    async def register_table(self, table: Any, parameters: dict[str, str]) -> None:
        raise LakeQueryError("The live page's SQL box does not change the catalog.")
