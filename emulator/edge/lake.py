"""The lake on the edge endpoint: the Glue catalog, and Athena reading tables through it.

Athena and Glue never import each other; :class:`GlueCatalogReader` is the one place that turns a Glue table into
what Athena's engine needs (:class:`emulator.lake.tables.ResolvedTable`), and back for CREATE TABLE AS.
"""

from __future__ import annotations

import re
from typing import Any

from emulator.athena.api import AthenaApi
from emulator.config.athena import AthenaSettings
from emulator.config.glue import GlueSettings
from emulator.firehose.lake import CatalogUnavailable, TableRef
from emulator.glue.api import GlueApi
from emulator.glue.crawl import parquet_storage
from emulator.glue.errors import GlueError
from emulator.glue.model import TableDef
from emulator.glue.registration import DeliveryRegistrar
from emulator.glue.service import GlueCatalog
from emulator.lake.objects import arrow_s3
from emulator.lake.tables import ResolvedTable
from emulator.lake.types import sink_type, sink_types
from foundation.clock import now_ms
from sinks import FieldType, S3Connection
from sinks.config import FIELD_NAME_PATTERN
from sinks.delivery import OnWrite


class GlueCatalogReader:
    """Athena's view of a :class:`GlueCatalog`."""

    def __init__(self, catalog: GlueCatalog) -> None:
        self._catalog = catalog

    def resolve(self, database: str, table: str) -> ResolvedTable | None:
        try:
            found = self._catalog.table(database, table)
        except GlueError:
            return None
        return resolved(found, self._catalog)

    def database_names(self) -> list[str]:
        return sorted(self._catalog.store.state.databases)

    def table_names(self, database: str) -> list[str] | None:
        if database not in self._catalog.store.state.databases:
            return None
        return sorted(t for d, t in self._catalog.store.state.tables if d == database)

    async def register_table(self, table: ResolvedTable, parameters: dict[str, str]) -> None:
        columns = [{"Name": c, "Type": t} for c, t in table.columns]
        created = now_ms()
        definition = TableDef.parse(
            table.database,
            {
                "Name": table.name,
                "StorageDescriptor": parquet_storage(table.location or "", columns, {}),
                "PartitionKeys": [],
                "TableType": "EXTERNAL_TABLE",
                "Parameters": parameters,
            },
            created,
            created,
        )
        await self._catalog.put_table(definition)


def resolved(table: TableDef, catalog: GlueCatalog) -> ResolvedTable:
    """A Glue table with its partitions, as the query engine takes it."""
    partitions = [(p.values, p.location) for _, p in sorted(catalog.partitions_of(table).items())]
    return ResolvedTable(
        database=table.database,
        name=table.name,
        location=table.location,
        columns=[(c["Name"], c["Type"]) for c in table.columns],
        partition_keys=[(k["Name"], k["Type"]) for k in table.partition_keys],
        partitions=partitions,
    )


def lake_services(
    glue: GlueSettings,
    athena: AthenaSettings,
    bootstrap_servers: str,
    s3: S3Connection | None,
    account_id: str,
    default_output: str | None = None,
) -> tuple[GlueApi, AthenaApi, GlueTableCatalog]:
    """Glue and Athena for one endpoint, Athena reading Glue's catalog, and Firehose's view of the catalog."""
    glue_api = GlueApi(glue, bootstrap_servers, s3, account_id)
    filesystem: Any = arrow_s3(s3) if s3 is not None and s3.endpoint_url else None
    athena_api = AthenaApi(athena, GlueCatalogReader(glue_api.catalog), filesystem, default_output)
    return glue_api, athena_api, GlueTableCatalog(glue_api.catalog, filesystem)


class GlueTableCatalog:
    """Firehose's view of a :class:`GlueCatalog` (:class:`emulator.firehose.lake.TableCatalog`)."""

    def __init__(self, catalog: GlueCatalog, filesystem: Any) -> None:
        self._catalog = catalog
        self._filesystem = filesystem

    def columns(self, table: TableRef) -> dict[str, FieldType]:
        try:
            found = self._catalog.table(table.database, table.table)
        except GlueError:
            raise CatalogUnavailable(
                f"SchemaConfiguration names table {table}, which is not in the Glue catalog: create it first"
            ) from None
        fields: dict[str, FieldType] = {}
        for column in found.columns:
            if not re.fullmatch(FIELD_NAME_PATTERN, column["Name"]):
                raise CatalogUnavailable(
                    f"column {column['Name']!r} of {table} is not a field name a record can have ({FIELD_NAME_PATTERN})"
                )
            kind = sink_type(column["Type"])
            if kind is None:
                raise CatalogUnavailable(
                    f"column {column['Name']} of {table} has type {column['Type']}, which kemu's Firehose cannot "
                    f"write from JSON; use one of {', '.join(sink_types())}"
                )
            fields[column["Name"]] = FieldType(kind)
        if not fields:
            raise CatalogUnavailable(f"table {table} has no columns to write")
        return fields

    def registrar(self, table: TableRef, stream: str, bucket: str, location_prefix: str) -> OnWrite:
        if self._filesystem is None:
            raise CatalogUnavailable("this endpoint has no S3 endpoint to read the delivered objects from")
        location = f"s3://{bucket}/{location_prefix}"
        return DeliveryRegistrar(self._catalog, self._filesystem, table.database, table.table, location, stream)
