"""What Firehose needs from a data catalog, without knowing which one: the columns of a table named by
``DataFormatConversionConfiguration.SchemaConfiguration``, and a callback that registers what a delivery stream
writes. The composition root hands :class:`FirehoseService` an implementation over the Glue catalog.

Registration is asked for with a tag on the delivery stream, ``kemu:catalog-table`` = ``database.table``: Firehose's
API has no such member, and boto3 refuses members its model does not have, while every client can set tags.
"""

from __future__ import annotations

from typing import Protocol

from emulator.lake.targets import TableRef, location_prefix
from sinks import FieldType
from sinks.delivery import OnWrite

__all__ = ["CATALOG_TAG", "CatalogUnavailable", "TableCatalog", "TableRef", "location_prefix", "registration_target"]

CATALOG_TAG = "kemu:catalog-table"


class CatalogUnavailable(ValueError):
    """The catalog cannot give what a delivery stream asks of it; the message says what and why."""


def registration_target(tags: dict[str, str]) -> TableRef | None:
    """The table a delivery stream registers its objects in, from its tags (None: it registers nothing)."""
    value = tags.get(CATALOG_TAG)
    if value is None:
        return None
    try:
        return TableRef.parse(value, f"tag {CATALOG_TAG}")
    except ValueError as exc:
        raise CatalogUnavailable(str(exc)) from None


class TableCatalog(Protocol):
    """A data catalog as Firehose uses it."""

    def columns(self, table: TableRef) -> dict[str, FieldType]:
        """The columns the delivery stream writes for ``table``, in the table's order; :class:`CatalogUnavailable`
        when the table is missing or has a column type the sink cannot write."""

    def registrar(self, table: TableRef, stream: str, bucket: str, location_prefix: str) -> OnWrite:
        """A callback that registers each write's objects (under ``s3://bucket/location_prefix``) in ``table``:
        creates the database and table on first use, adds new partitions and columns."""
