"""A delivery stream registering what it writes in the catalog, so its table is queryable without a crawler run.

The first write crawls the stream's location into the table (creating the database and the table, with what was
delivered before too); every later write adds the partitions its objects are in and the columns their footers
bring (widened by the crawler's rules). Keys that could not be registered (the catalog's topic unreachable) are kept
and tried again with the next write; a crash forgets them, and a crawl of the location registers them.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from emulator.config.glue import GlueSettings
from emulator.glue.api import GlueApi
from emulator.glue.crawl import crawl_path, parquet_storage
from emulator.glue.crawl_rules import SchemaUnion, is_data_key, partition_of
from emulator.glue.errors import EntityNotFoundException, GlueError
from emulator.glue.model import PartitionDef, TableDef
from emulator.glue.service import GlueCatalog
from emulator.lake.objects import Location, arrow_s3, read_footer
from emulator.lake.targets import TableRef, location_prefix
from foundation.clock import now_ms
from sinks import S3Connection

log = logging.getLogger(__name__)


class DeliveryRegistrar:
    """Registers the objects a delivery stream writes under ``location`` in ``database.table``."""

    def __init__(
        self, catalog: GlueCatalog, filesystem: Any, database: str, table: str, location: str, stream: str
    ) -> None:
        self._catalog = catalog
        self._filesystem = filesystem
        self._database = database
        self._table = table
        self._location = Location.parse(location)
        self._stream = stream
        self._pending: set[str] = set()
        self._warned: set[str] = set()

    async def __call__(self, keys: tuple[str, ...]) -> None:
        """Register ``keys`` (the data objects of one write, full keys in the location's bucket)."""
        self._pending.update(k for k in keys if k.startswith(self._location.prefix))
        if not self._pending:
            return
        await self._ensure_database()
        try:
            table = self._catalog.table(self._database, self._table)
        except EntityNotFoundException:
            report = await crawl_path(
                self._catalog, self._filesystem, self._database, self._location.uri,
                crawler=f"firehose:{self._stream}", table_name=self._table,
            )  # fmt: skip
            if report.conflicts:
                log.warning("registering %s in %s.%s: %s", self._stream, self._database, self._table, report.conflicts)
            if report.table is not None and report.objects:
                self._pending.clear()
            return
        pending = sorted(self._pending)
        await self._register(table, pending)
        self._pending.difference_update(pending)

    async def _ensure_database(self) -> None:
        try:
            self._catalog.database(self._database)
        except EntityNotFoundException:
            await self._catalog.create_database({"Name": self._database})

    async def _register(self, table: TableDef, keys: list[str]) -> None:
        relative = {k: k[len(self._location.prefix) :] for k in keys}
        data = [k for k in keys if is_data_key(relative[k])]
        names = [k["Name"] for k in table.partition_keys]
        have = self._catalog.partitions_of(table)
        by_values: dict[tuple[str, ...], str] = {}
        for key in data:
            values = partition_of(relative[key], names)
            if values is None:
                self._warn_once(key, names)
                continue
            if values not in have:
                by_values.setdefault(values, relative[key].rsplit("/", 1)[0] + "/" if names else "")
        footers = await asyncio.to_thread(self._footers, data)
        old = {c["Name"]: c["Type"] for c in table.columns}
        union = SchemaUnion(dict(old))
        for key, schema in zip(data, footers, strict=True):
            union.add(schema, relative[key], skip=frozenset(names))
        columns = table.columns
        if union.columns != old:
            columns = [{"Name": c, "Type": t} for c, t in union.columns.items()]
            table = _with_columns(table, columns)
            await self._catalog.put_table(table)
        created = now_ms()
        partitions = []
        for values, directory in sorted(by_values.items()):
            partition = {
                "Values": list(values),
                "StorageDescriptor": parquet_storage(self._location.uri + directory, columns, {}),
            }
            try:
                partitions.append(PartitionDef.parse(self._database, table, partition, "Partition", created))
            except GlueError as exc:  # a value Glue refuses: that partition is left out, the others registered
                log.warning("partition %s of %s.%s is not registered: %s", directory, self._database, self._table, exc)
        if partitions:
            await self._catalog.put_partitions(table, partitions)

    def _footers(self, keys: list[str]) -> list[Any]:
        return [read_footer(self._filesystem, f"{self._location.bucket}/{key}")[0] for key in keys]

    def _warn_once(self, key: str, names: list[str]) -> None:
        if self._table in self._warned:
            return
        self._warned.add(self._table)
        log.warning(
            "object %s of delivery stream %s does not fit the partition keys %s of %s.%s; it is not registered",
            key, self._stream, names, self._database, self._table,
        )  # fmt: skip


def _with_columns(table: TableDef, columns: list[dict[str, Any]]) -> TableDef:
    """``table`` with ``columns`` (widened or added), as its next version."""
    storage = {**table.members["StorageDescriptor"], "Columns": columns}
    return TableDef.parse(
        table.database,
        {"Name": table.name, **table.members, "StorageDescriptor": storage},
        table.created_ms,
        now_ms(),
        table.version + 1,
    )


class DeliveryCatalog:
    """The Glue catalog followed in this process, for the delivery streams ``kemu sink run`` and ``kemu up`` run:
    ``registrar`` gives the ``on_write`` callback of a stream that registers what it writes."""

    def __init__(self, settings: GlueSettings, bootstrap_servers: str, s3: S3Connection, account_id: str) -> None:
        self._api = GlueApi(settings, bootstrap_servers, s3, account_id)
        self._filesystem = arrow_s3(s3)

    async def start(self) -> None:
        await self._api.start()

    async def stop(self) -> None:
        await self._api.stop()

    def registrar(self, table: str, stream: str, bucket: str, prefix: str) -> DeliveryRegistrar:
        """The callback of ``stream`` (writing under ``prefix`` in ``bucket``) registering in ``table``
        (``database.table``; ValueError when it names none)."""
        ref = TableRef.parse(table)
        location = f"s3://{bucket}/{location_prefix(prefix)}"
        return DeliveryRegistrar(self._api.catalog, self._filesystem, ref.database, ref.table, location, stream)
