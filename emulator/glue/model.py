"""The catalog's entities (database, table, partition) parsed from their Glue inputs and rendered back (pure).

A definition is kept as the validated input the caller sent (``TableInput`` and friends, reduced to the members
Glue defines) plus what the catalog adds (times, version). Names are checked before they can reach a topic key, an
S3 path or SQL: databases and tables are lower-cased as Glue does, and limited to letters, digits, ``_`` and ``-``
(what Athena can name without quoting tricks); columns may not hold quotes or control characters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from emulator.glue.errors import InvalidInputException
from emulator.glue.wire import Timestamp

NAME_RE = re.compile(r"[a-z0-9_][a-z0-9_-]{0,254}")
COLUMN_RE = re.compile(r"[^\x00-\x1f\"`/\\]{1,255}")
#: Hive type strings as Glue stores them: ``bigint``, ``decimal(10,2)``, ``array<struct<a:int>>``...
TYPE_RE = re.compile(r"[a-z][a-z0-9_<>,:() ]{0,4095}")
LOCATION_RE = re.compile(r"s3a?://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](/[^\x00-\x1f]*)?")
MAX_VALUE_CHARS = 1024
MAX_PARTITION_KEYS = 100

_STORAGE_STRINGS = ("Location", "InputFormat", "OutputFormat")
_TABLE_STRINGS = ("Description", "Owner", "TableType", "ViewOriginalText", "ViewExpandedText")


def table_name(value: str, member: str = "name") -> str:
    """A database or table name, lower-cased; InvalidInputException when Athena could not name it."""
    lowered = value.lower()
    if not NAME_RE.fullmatch(lowered):
        raise InvalidInputException(
            f"{member} {value[:80]!r} is not a valid name: use 1 to 255 letters, digits, '_' or '-', starting with a "
            "letter, digit or '_'."
        )
    return lowered


def _strings(value: Any, member: str) -> dict[str, str]:
    """A map of strings to strings (Parameters): InvalidInputException for anything else."""
    if value is None:
        return {}
    if not isinstance(value, dict) or not all(isinstance(k, str) and isinstance(v, str) for k, v in value.items()):
        raise InvalidInputException(f"{member} must map strings to strings.")
    return dict(value)


def _string(value: Any, member: str, max_len: int = 2048) -> str:
    if not isinstance(value, str) or len(value) > max_len:
        raise InvalidInputException(f"{member} must be a string of at most {max_len} characters.")
    return value


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: str
    comment: str | None = None
    parameters: dict[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, value: Any, member: str) -> Column:
        if not isinstance(value, dict):
            raise InvalidInputException(f"{member} must be a structure with Name and Type.")
        name = value.get("Name")
        if not isinstance(name, str) or not COLUMN_RE.fullmatch(name):
            raise InvalidInputException(
                f"{member}.Name {str(name)[:80]!r} is not a valid column name: 1 to 255 characters, no quotes, "
                "slashes or control characters."
            )
        kind = value.get("Type", "string")
        if not isinstance(kind, str) or not TYPE_RE.fullmatch(kind.lower()):
            raise InvalidInputException(f"{member}.Type {str(kind)[:80]!r} is not a Hive type such as bigint.")
        comment = value.get("Comment")
        return cls(
            name=name.lower(),
            type=kind.lower(),
            comment=None if comment is None else _string(comment, f"{member}.Comment", 255),
            parameters=_strings(value.get("Parameters"), f"{member}.Parameters"),
        )

    def render(self) -> dict[str, Any]:
        out: dict[str, Any] = {"Name": self.name, "Type": self.type}
        if self.comment is not None:
            out["Comment"] = self.comment
        if self.parameters:
            out["Parameters"] = self.parameters
        return out


def columns(value: Any, member: str) -> list[Column]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise InvalidInputException(f"{member} must be a list of columns.")
    parsed = [Column.parse(item, f"{member}[{i}]") for i, item in enumerate(value)]
    names = [c.name for c in parsed]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise InvalidInputException(f"{member} names column(s) {', '.join(duplicates)} more than once.")
    return parsed


def storage_descriptor(value: Any, member: str) -> dict[str, Any]:
    """A StorageDescriptor reduced to Glue's members, with its columns and location checked."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InvalidInputException(f"{member} must be a structure.")
    out: dict[str, Any] = {}
    for key in _STORAGE_STRINGS:
        if value.get(key) is not None:
            out[key] = _string(value[key], f"{member}.{key}")
    location = out.get("Location")
    if location and not LOCATION_RE.fullmatch(location):
        raise InvalidInputException(
            f"{member}.Location {location[:80]!r} is not an s3:// location (s3://bucket/prefix/)."
        )
    out["Columns"] = [c.render() for c in columns(value.get("Columns"), f"{member}.Columns")]
    if isinstance(value.get("Compressed"), bool):
        out["Compressed"] = value["Compressed"]
    if isinstance(value.get("NumberOfBuckets"), int):
        out["NumberOfBuckets"] = value["NumberOfBuckets"]
    for key in ("SerdeInfo", "SkewedInfo", "SchemaReference"):
        if isinstance(value.get(key), dict):
            out[key] = value[key]
    for key in ("BucketColumns", "SortColumns"):
        if isinstance(value.get(key), list):
            out[key] = value[key]
    if isinstance(value.get("StoredAsSubDirectories"), bool):
        out["StoredAsSubDirectories"] = value["StoredAsSubDirectories"]
    out["Parameters"] = _strings(value.get("Parameters"), f"{member}.Parameters")
    return out


@dataclass(frozen=True, slots=True)
class DatabaseDef:
    name: str
    description: str | None
    location_uri: str | None
    parameters: dict[str, str]
    created_ms: int

    @classmethod
    def parse(cls, value: Any, created_ms: int) -> DatabaseDef:
        if not isinstance(value, dict) or not isinstance(value.get("Name"), str):
            raise InvalidInputException("DatabaseInput must be a structure with a Name.")
        description, location = value.get("Description"), value.get("LocationUri")
        return cls(
            name=table_name(value["Name"], "DatabaseInput.Name"),
            description=None if description is None else _string(description, "DatabaseInput.Description"),
            location_uri=None if location is None else _string(location, "DatabaseInput.LocationUri"),
            parameters=_strings(value.get("Parameters"), "DatabaseInput.Parameters"),
            created_ms=created_ms,
        )

    def to_record(self) -> dict[str, Any]:
        return {
            "Name": self.name,
            "Description": self.description,
            "LocationUri": self.location_uri,
            "Parameters": self.parameters,
            "created_ms": self.created_ms,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> DatabaseDef:
        return cls.parse(record, int(record["created_ms"]))

    def render(self, catalog_id: str) -> dict[str, Any]:
        out: dict[str, Any] = {
            "Name": self.name,
            "Parameters": self.parameters,
            "CreateTime": Timestamp(self.created_ms),
            "CatalogId": catalog_id,
            "CreateTableDefaultPermissions": [],
        }
        if self.description is not None:
            out["Description"] = self.description
        if self.location_uri is not None:
            out["LocationUri"] = self.location_uri
        return out


@dataclass(frozen=True, slots=True)
class TableDef:
    """A table: the validated ``TableInput`` members plus the catalog's times and version."""

    database: str
    name: str
    members: dict[str, Any]
    created_ms: int
    updated_ms: int
    version: int = 0

    @classmethod
    def parse(cls, database: str, value: Any, created_ms: int, updated_ms: int, version: int = 0) -> TableDef:
        if not isinstance(value, dict) or not isinstance(value.get("Name"), str):
            raise InvalidInputException("TableInput must be a structure with a Name.")
        members: dict[str, Any] = {}
        for key in _TABLE_STRINGS:
            if value.get(key) is not None:
                members[key] = _string(value[key], f"TableInput.{key}", 409600)
        members["StorageDescriptor"] = storage_descriptor(
            value.get("StorageDescriptor"), "TableInput.StorageDescriptor"
        )
        keys = columns(value.get("PartitionKeys"), "TableInput.PartitionKeys")
        if len(keys) > MAX_PARTITION_KEYS:
            raise InvalidInputException(f"A table has at most {MAX_PARTITION_KEYS} partition keys.")
        clash = {c.name for c in keys} & {c["Name"] for c in members["StorageDescriptor"].get("Columns", [])}
        if clash:
            raise InvalidInputException(f"Partition key(s) {', '.join(sorted(clash))} are also columns of the table.")
        members["PartitionKeys"] = [c.render() for c in keys]
        members["Parameters"] = _strings(value.get("Parameters"), "TableInput.Parameters")
        if isinstance(value.get("Retention"), int):
            members["Retention"] = value["Retention"]
        return cls(database, table_name(value["Name"], "TableInput.Name"), members, created_ms, updated_ms, version)

    @property
    def location(self) -> str | None:
        location: str | None = self.members["StorageDescriptor"].get("Location")
        return location

    @property
    def partition_keys(self) -> list[dict[str, Any]]:
        keys: list[dict[str, Any]] = self.members["PartitionKeys"]
        return keys

    @property
    def columns(self) -> list[dict[str, Any]]:
        cols: list[dict[str, Any]] = self.members["StorageDescriptor"].get("Columns", [])
        return cols

    @property
    def parameters(self) -> dict[str, str]:
        params: dict[str, str] = self.members["Parameters"]
        return params

    def to_record(self) -> dict[str, Any]:
        return {
            "input": {"Name": self.name, **self.members},
            "created_ms": self.created_ms,
            "updated_ms": self.updated_ms,
            "version": self.version,
        }

    @classmethod
    def from_record(cls, database: str, record: dict[str, Any]) -> TableDef:
        return cls.parse(
            database, record["input"], int(record["created_ms"]), int(record["updated_ms"]), int(record["version"])
        )

    def render(self, catalog_id: str) -> dict[str, Any]:
        return {
            "Name": self.name,
            "DatabaseName": self.database,
            **self.members,
            "TableType": self.members.get("TableType", "EXTERNAL_TABLE"),
            "CreateTime": Timestamp(self.created_ms),
            "UpdateTime": Timestamp(self.updated_ms),
            "Retention": self.members.get("Retention", 0),
            "IsRegisteredWithLakeFormation": False,
            "CatalogId": catalog_id,
            "VersionId": str(self.version),
        }


def partition_values(value: Any, member: str, keys: int) -> tuple[str, ...]:
    """A partition's Values: strings, one per partition key of its table."""
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InvalidInputException(f"{member} must be a list of strings.")
    if len(value) != keys:
        raise InvalidInputException(
            f"{member} has {len(value)} value(s), but the table has {keys} partition key(s): give one value per key."
        )
    for item in value:
        if len(item) > MAX_VALUE_CHARS or any(ord(ch) < 0x20 for ch in item):
            raise InvalidInputException(
                f"{member}: partition values are at most {MAX_VALUE_CHARS} characters without control characters."
            )
    return tuple(value)


@dataclass(frozen=True, slots=True)
class PartitionDef:
    database: str
    table: str
    values: tuple[str, ...]
    storage: dict[str, Any]
    parameters: dict[str, str]
    created_ms: int

    @classmethod
    def parse(cls, database: str, table: TableDef, value: Any, member: str, created_ms: int) -> PartitionDef:
        if not isinstance(value, dict):
            raise InvalidInputException(f"{member} must be a structure with Values.")
        values = partition_values(value.get("Values"), f"{member}.Values", len(table.partition_keys))
        storage = storage_descriptor(value.get("StorageDescriptor"), f"{member}.StorageDescriptor")
        return cls(
            database, table.name, values, storage, _strings(value.get("Parameters"), f"{member}.Parameters"),
            created_ms,
        )  # fmt: skip

    @property
    def location(self) -> str | None:
        location: str | None = self.storage.get("Location")
        return location

    def to_record(self) -> dict[str, Any]:
        return {
            "Values": list(self.values),
            "StorageDescriptor": self.storage,
            "Parameters": self.parameters,
            "created_ms": self.created_ms,
        }

    @classmethod
    def from_record(cls, database: str, table: TableDef, record: dict[str, Any]) -> PartitionDef:
        return cls.parse(database, table, record, "Partition", int(record["created_ms"]))

    def render(self, catalog_id: str) -> dict[str, Any]:
        return {
            "Values": list(self.values),
            "DatabaseName": self.database,
            "TableName": self.table,
            "CreationTime": Timestamp(self.created_ms),
            "StorageDescriptor": self.storage,
            "Parameters": self.parameters,
            "CatalogId": catalog_id,
        }
