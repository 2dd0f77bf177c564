"""The Glue Data Catalog: databases, tables and partitions, one method per operation over :class:`CatalogStore`.

Methods take parsed arguments (:mod:`emulator.glue.operations` reads the request bodies) and return the response
members. Deleting a table deletes its partitions and deleting a database its tables, as Glue does.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from emulator.glue.errors import (
    AlreadyExistsException,
    EntityNotFoundException,
    InvalidInputException,
    ResourceNumberLimitExceededException,
)
from emulator.glue.expressions import compile_expression
from emulator.glue.model import DatabaseDef, PartitionDef, TableDef, partition_values, table_name
from emulator.glue.paging import name_pattern, page
from emulator.glue.store import (
    CatalogStore,
    Change,
    PartitionKey,
    database_key,
    partition_key,
    table_key,
)
from foundation.clock import now_ms

#: Glue's batch limits: BatchCreatePartition 100, BatchGetPartition 1,000, BatchDeletePartition 25, BatchDeleteTable
#: 100 entries per call.
BATCH_CREATE_PARTITIONS = 100
BATCH_GET_PARTITIONS = 1000
BATCH_DELETE_PARTITIONS = 25
BATCH_DELETE_TABLES = 100


class GlueCatalog:
    """The catalog operations of one account (``catalog_id``) over ``store``."""

    def __init__(self, store: CatalogStore, catalog_id: str = "000000000000") -> None:
        self.store = store
        self.catalog_id = catalog_id

    @property
    def _state(self) -> Any:
        return self.store.state

    # --- lookups ----------------------------------------------------------------------------------------------

    def database(self, name: str) -> DatabaseDef:
        found = self._state.databases.get(table_name(name, "DatabaseName"))
        if found is None:
            raise EntityNotFoundException(f"Database {name} not found.")
        database: DatabaseDef = found
        return database

    def table(self, database: str, name: str) -> TableDef:
        db = self.database(database).name
        found = self._state.tables.get((db, table_name(name, "TableName")))
        if found is None:
            raise EntityNotFoundException(f"Table {name} not found in database {db}.")
        table: TableDef = found
        return table

    def partitions_of(self, table: TableDef) -> dict[PartitionKey, PartitionDef]:
        found: dict[PartitionKey, PartitionDef] = self._state.partitions.get((table.database, table.name), {})
        return found

    # --- databases ----------------------------------------------------------------------------------------------

    async def create_database(self, database_input: Any) -> dict[str, Any]:
        database = DatabaseDef.parse(database_input, now_ms())
        if database.name in self._state.databases:
            raise AlreadyExistsException(f"Database already exists: {database.name}.")
        await self.store.write([(database_key(database.name), database.to_record())])
        return {}

    async def get_database(self, name: str) -> dict[str, Any]:
        return {"Database": self.database(name).render(self.catalog_id)}

    async def get_databases(self, token: str | None, limit: int) -> dict[str, Any]:
        chosen, next_token = page(list(self._state.databases.values()), lambda d: d.name, token, limit)
        out: dict[str, Any] = {"DatabaseList": [d.render(self.catalog_id) for d in chosen]}
        if next_token:
            out["NextToken"] = next_token
        return out

    async def update_database(self, name: str, database_input: Any) -> dict[str, Any]:
        current = self.database(name)
        updated = DatabaseDef.parse(database_input, current.created_ms)
        if updated.name != current.name:
            raise InvalidInputException("UpdateDatabase cannot rename a database.")
        await self.store.write([(database_key(current.name), updated.to_record())])
        return {}

    async def delete_database(self, name: str) -> dict[str, Any]:
        database = self.database(name)
        changes: list[Change] = []
        for (db, table), _ in list(self._state.tables.items()):
            if db == database.name:
                changes += self._table_deletion(self._state.tables[(db, table)])
        changes.append((database_key(database.name), None))
        await self.store.write(changes)
        return {}

    # --- tables -------------------------------------------------------------------------------------------------

    async def create_table(self, database: str, table_input: Any) -> dict[str, Any]:
        db = self.database(database).name
        created = now_ms()
        table = TableDef.parse(db, table_input, created, created)
        if (db, table.name) in self._state.tables:
            raise AlreadyExistsException(f"Table already exists: {db}.{table.name}.")
        await self.store.write([(table_key(db, table.name), table.to_record())])
        return {}

    async def put_table(self, table: TableDef) -> None:
        """Create or replace ``table`` as it is (crawlers and delivery streams)."""
        await self.store.write([(table_key(table.database, table.name), table.to_record())])

    async def get_table(self, database: str, name: str) -> dict[str, Any]:
        return {"Table": self.table(database, name).render(self.catalog_id)}

    async def get_tables(self, database: str, expression: str | None, token: str | None, limit: int) -> dict[str, Any]:
        db = self.database(database).name
        matches = name_pattern(expression)
        tables = [t for (d, _), t in self._state.tables.items() if d == db and matches(t.name)]
        chosen, next_token = page(tables, lambda t: t.name, token, limit)
        out: dict[str, Any] = {"TableList": [t.render(self.catalog_id) for t in chosen]}
        if next_token:
            out["NextToken"] = next_token
        return out

    async def update_table(self, database: str, table_input: Any) -> dict[str, Any]:
        if not isinstance(table_input, dict) or not isinstance(table_input.get("Name"), str):
            raise InvalidInputException("TableInput must be a structure with a Name.")
        current = self.table(database, table_input["Name"])
        updated = TableDef.parse(current.database, table_input, current.created_ms, now_ms(), current.version + 1)
        await self.store.write([(table_key(current.database, current.name), updated.to_record())])
        return {}

    def _table_deletion(self, table: TableDef) -> list[Change]:
        changes: list[Change] = [
            (partition_key(table.database, table.name, values), None) for values in self.partitions_of(table)
        ]
        changes.append((table_key(table.database, table.name), None))
        return changes

    async def delete_table(self, database: str, name: str) -> dict[str, Any]:
        await self.store.write(self._table_deletion(self.table(database, name)))
        return {}

    async def batch_delete_table(self, database: str, names: Sequence[str]) -> dict[str, Any]:
        if len(names) > BATCH_DELETE_TABLES:
            raise InvalidInputException(f"TablesToDelete holds at most {BATCH_DELETE_TABLES} names.")
        errors: list[dict[str, Any]] = []
        changes: list[Change] = []
        for name in names:
            try:
                changes += self._table_deletion(self.table(database, name))
            except (EntityNotFoundException, InvalidInputException) as exc:
                errors.append({"TableName": name, "ErrorDetail": _detail(exc)})
        await self.store.write(changes)
        return {"Errors": errors}

    # --- partitions ---------------------------------------------------------------------------------------------

    def _new_partition(self, table: TableDef, partition_input: Any, member: str) -> PartitionDef:
        return PartitionDef.parse(table.database, table, partition_input, member, now_ms())

    async def create_partition(self, database: str, table_name_: str, partition_input: Any) -> dict[str, Any]:
        table = self.table(database, table_name_)
        partition = self._new_partition(table, partition_input, "PartitionInput")
        if partition.values in self.partitions_of(table):
            raise AlreadyExistsException(f"Partition already exists: {list(partition.values)}.")
        await self.store.write([(partition_key(table.database, table.name, partition.values), partition.to_record())])
        return {}

    async def batch_create_partition(self, database: str, table_name_: str, inputs: Sequence[Any]) -> dict[str, Any]:
        if len(inputs) > BATCH_CREATE_PARTITIONS:
            raise ResourceNumberLimitExceededException(
                f"PartitionInputList holds at most {BATCH_CREATE_PARTITIONS} partitions."
            )
        table = self.table(database, table_name_)
        existing = self.partitions_of(table)
        errors: list[dict[str, Any]] = []
        changes: list[Change] = []
        seen: set[PartitionKey] = set()
        for i, item in enumerate(inputs):
            try:
                partition = self._new_partition(table, item, f"PartitionInputList[{i}]")
                if partition.values in existing or partition.values in seen:
                    raise AlreadyExistsException(f"Partition already exists: {list(partition.values)}.")
            except (AlreadyExistsException, InvalidInputException) as exc:
                values = item.get("Values") if isinstance(item, dict) else None
                errors.append(
                    {"PartitionValues": values if isinstance(values, list) else [], "ErrorDetail": _detail(exc)}
                )
                continue
            seen.add(partition.values)
            changes.append((partition_key(table.database, table.name, partition.values), partition.to_record()))
        await self.store.write(changes)
        return {"Errors": errors}

    async def put_partitions(self, table: TableDef, partitions: Sequence[PartitionDef]) -> None:
        """Create or replace ``partitions`` of ``table`` as they are (crawlers and delivery streams)."""
        await self.store.write(
            [(partition_key(table.database, table.name, p.values), p.to_record()) for p in partitions]
        )

    def _values(self, table: TableDef, value: Any, member: str) -> PartitionKey:
        return partition_values(value, member, len(table.partition_keys))

    async def get_partition(self, database: str, table_name_: str, values: Any) -> dict[str, Any]:
        table = self.table(database, table_name_)
        key = self._values(table, values, "PartitionValues")
        found = self.partitions_of(table).get(key)
        if found is None:
            raise EntityNotFoundException(f"Partition {list(key)} of {table.database}.{table.name} not found.")
        return {"Partition": found.render(self.catalog_id)}

    async def get_partitions(
        self,
        database: str,
        table_name_: str,
        expression: str | None,
        token: str | None,
        limit: int,
        segment: tuple[int, int] | None = None,
        exclude_columns: bool = False,
    ) -> dict[str, Any]:
        table = self.table(database, table_name_)
        keys = [k["Name"] for k in table.partition_keys]
        predicate = compile_expression(expression or "", {k["Name"]: k["Type"] for k in table.partition_keys})
        partitions = sorted(self.partitions_of(table).values(), key=lambda p: p.values)
        if segment is not None:
            number, total = segment
            partitions = [p for i, p in enumerate(partitions) if i % total == number]
        chosen_all = [p for p in partitions if predicate(dict(zip(keys, p.values, strict=True)))]
        chosen, next_token = page(chosen_all, lambda p: p.values, token, limit)
        rendered = [p.render(self.catalog_id) for p in chosen]
        if exclude_columns:
            for item in rendered:
                item["StorageDescriptor"] = {k: v for k, v in item["StorageDescriptor"].items() if k != "Columns"}
        out: dict[str, Any] = {"Partitions": rendered}
        if next_token:
            out["NextToken"] = next_token
        return out

    async def batch_get_partition(self, database: str, table_name_: str, entries: Sequence[Any]) -> dict[str, Any]:
        if len(entries) > BATCH_GET_PARTITIONS:
            raise InvalidInputException(f"PartitionsToGet holds at most {BATCH_GET_PARTITIONS} entries.")
        table = self.table(database, table_name_)
        found, missing = [], []
        for i, entry in enumerate(entries):
            values = entry.get("Values") if isinstance(entry, dict) else None
            key = self._values(table, values, f"PartitionsToGet[{i}].Values")
            partition = self.partitions_of(table).get(key)
            if partition is None:
                missing.append({"Values": list(key)})
            else:
                found.append(partition.render(self.catalog_id))
        return {"Partitions": found, "UnprocessedKeys": missing}

    async def update_partition(
        self, database: str, table_name_: str, values: Any, partition_input: Any
    ) -> dict[str, Any]:
        table = self.table(database, table_name_)
        key = self._values(table, values, "PartitionValueList")
        current = self.partitions_of(table).get(key)
        if current is None:
            raise EntityNotFoundException(f"Partition {list(key)} of {table.database}.{table.name} not found.")
        updated = PartitionDef.parse(table.database, table, partition_input, "PartitionInput", current.created_ms)
        changes: list[Change] = []
        if updated.values != key:
            changes.append((partition_key(table.database, table.name, key), None))
        changes.append((partition_key(table.database, table.name, updated.values), updated.to_record()))
        await self.store.write(changes)
        return {}

    async def delete_partition(self, database: str, table_name_: str, values: Any) -> dict[str, Any]:
        table = self.table(database, table_name_)
        key = self._values(table, values, "PartitionValues")
        if key not in self.partitions_of(table):
            raise EntityNotFoundException(f"Partition {list(key)} of {table.database}.{table.name} not found.")
        await self.store.write([(partition_key(table.database, table.name, key), None)])
        return {}

    async def batch_delete_partition(self, database: str, table_name_: str, entries: Sequence[Any]) -> dict[str, Any]:
        if len(entries) > BATCH_DELETE_PARTITIONS:
            raise InvalidInputException(f"PartitionsToDelete holds at most {BATCH_DELETE_PARTITIONS} entries.")
        table = self.table(database, table_name_)
        errors: list[dict[str, Any]] = []
        changes: list[Change] = []
        for i, entry in enumerate(entries):
            values = entry.get("Values") if isinstance(entry, dict) else None
            key = self._values(table, values, f"PartitionsToDelete[{i}].Values")
            if key not in self.partitions_of(table):
                errors.append(
                    {
                        "PartitionValues": list(key),
                        "ErrorDetail": {"ErrorCode": "EntityNotFoundException", "ErrorMessage": "Partition not found."},
                    }
                )
                continue
            changes.append((partition_key(table.database, table.name, key), None))
        await self.store.write(changes)
        return {"Errors": errors}


def _detail(exc: Exception) -> dict[str, str]:
    return {"ErrorCode": getattr(exc, "type_name", type(exc).__name__), "ErrorMessage": str(exc)}
