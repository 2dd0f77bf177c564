"""What Firehose needs from a data catalog, without knowing which one: the columns of a table named by
``DataFormatConversionConfiguration.SchemaConfiguration``, and a callback that registers what a delivery stream
writes. The composition root hands :class:`FirehoseService` an implementation over the Glue catalog.

Registration is asked for with a tag on the delivery stream, ``kemu:catalog-table`` = ``database.table``: Firehose's
API has no such member, and boto3 refuses members its model does not have, while every client can set tags.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from sinks import FieldType
from sinks.delivery import OnWrite

CATALOG_TAG = "kemu:catalog-table"
#: Glue's database and table names, compared in lower case.
_NAME = r"[a-z0-9_][a-z0-9_-]{0,254}"
_TABLE_REF = re.compile(rf"({_NAME})\.({_NAME})")


class CatalogUnavailable(ValueError):
    """The catalog cannot give what a delivery stream asks of it; the message says what and why."""


@dataclass(frozen=True, slots=True)
class TableRef:
    """A table of the catalog."""

    database: str
    table: str

    @classmethod
    def parse_tag(cls, value: str) -> TableRef:
        """The table named by a ``kemu:catalog-table`` tag; :class:`CatalogUnavailable` when it names none."""
        match = _TABLE_REF.fullmatch(value.strip().lower())
        if match is None:
            raise CatalogUnavailable(
                f"tag {CATALOG_TAG} must be DATABASE.TABLE with Glue names (letters, digits, _ and -), got {value!r}"
            )
        return cls(match[1], match[2])

    def __str__(self) -> str:
        return f"{self.database}.{self.table}"


def registration_target(tags: dict[str, str]) -> TableRef | None:
    """The table a delivery stream registers its objects in, from its tags (None: it registers nothing)."""
    value = tags.get(CATALOG_TAG)
    return None if value is None else TableRef.parse_tag(value)


class TableCatalog(Protocol):
    """A data catalog as Firehose uses it."""

    def columns(self, table: TableRef) -> dict[str, FieldType]:
        """The columns the delivery stream writes for ``table``, in the table's order; :class:`CatalogUnavailable`
        when the table is missing or has a column type the sink cannot write."""

    def registrar(self, table: TableRef, stream: str, bucket: str, location_prefix: str) -> OnWrite:
        """A callback that registers each write's objects (under ``s3://bucket/location_prefix``) in ``table``:
        creates the database and table on first use, adds new partitions and columns."""


def location_prefix(prefix: str) -> str:
    """The fixed part of a delivery stream's prefix, up to its last ``/`` before any ``!{...}`` expression: the
    table's location. Firehose's default layout (no expressions) puts ``yyyy/MM/dd/HH/`` below the prefix."""
    if "!{" not in prefix:
        return prefix if not prefix or prefix.endswith("/") else prefix + "/"
    static = prefix.split("!{", 1)[0]
    return static[: static.rfind("/") + 1]
