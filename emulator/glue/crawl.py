"""One crawl of one S3 path into one table: list, read the footers, then create or extend the table and add the
partitions it did not have. The rules are :mod:`emulator.glue.crawl_rules`; this module does the I/O."""

from __future__ import annotations

import asyncio
import logging
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from typing import Any

from emulator.glue.crawl_rules import SchemaUnion, is_data_key, partition_layout, table_name_for, widen
from emulator.glue.errors import EntityNotFoundException
from emulator.glue.model import PartitionDef, TableDef
from emulator.glue.service import GlueCatalog
from emulator.lake.objects import Location, ObjectInfo, list_objects, read_footer
from foundation.clock import now_ms

log = logging.getLogger(__name__)

PARQUET_INPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetInputFormat"
PARQUET_OUTPUT = "org.apache.hadoop.hive.ql.io.parquet.MapredParquetOutputFormat"
PARQUET_SERDE = {
    "SerializationLibrary": "org.apache.hadoop.hive.ql.io.parquet.serde.ParquetHiveSerDe",
    "Parameters": {"serialization.format": "1"},
}
FOOTER_THREADS = 8


@dataclass
class CrawlReport:
    """What one crawl of one path found and changed."""

    path: str
    table: str | None = None
    created: bool = False
    objects: int = 0
    records: int = 0
    columns_added: list[str] = field(default_factory=list)
    columns_widened: list[str] = field(default_factory=list)
    partitions_added: list[list[str]] = field(default_factory=list)
    partitions_total: int = 0
    left_out: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return self.created or bool(self.columns_added or self.columns_widened or self.partitions_added)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def parquet_storage(location: str, columns: list[dict[str, Any]], parameters: dict[str, str]) -> dict[str, Any]:
    """A StorageDescriptor for Parquet files at ``location``, as crawlers and Athena write them."""
    return {
        "Columns": columns,
        "Location": location,
        "InputFormat": PARQUET_INPUT,
        "OutputFormat": PARQUET_OUTPUT,
        "SerdeInfo": PARQUET_SERDE,
        "Compressed": False,
        "NumberOfBuckets": -1,
        "StoredAsSubDirectories": False,
        "Parameters": parameters,
    }


def _footers(filesystem: Any, objects: list[ObjectInfo]) -> list[tuple[ObjectInfo, Any, int]]:
    with ThreadPoolExecutor(FOOTER_THREADS, thread_name_prefix="crawler-footer") as pool:
        read = list(pool.map(lambda o: read_footer(filesystem, o.path), objects))
    return [(o, schema, rows) for o, (schema, rows) in zip(objects, read, strict=True)]


def _scan(filesystem: Any, location: Location) -> tuple[list[tuple[ObjectInfo, Any, int]], dict[str, str]]:
    """The data objects below ``location`` with their footers, and the objects skipped with why."""
    objects = [o for o in list_objects(filesystem, location) if is_data_key(o.relative)]
    skipped: dict[str, str] = {}
    usable: list[ObjectInfo] = []
    for o in objects:
        if o.size < 12:
            skipped[o.relative] = "too small to be a Parquet file"
        else:
            usable.append(o)
    footers: list[tuple[ObjectInfo, Any, int]] = []
    for o, schema, rows in _safe_footers(filesystem, usable, skipped):
        footers.append((o, schema, rows))
    return footers, skipped


def _safe_footers(
    filesystem: Any, objects: list[ObjectInfo], skipped: dict[str, str]
) -> list[tuple[ObjectInfo, Any, int]]:
    try:
        return _footers(filesystem, objects)
    except Exception:
        out = []
        for o in objects:
            try:
                schema, rows = read_footer(filesystem, o.path)
            except Exception as exc:
                skipped[o.relative] = f"not a readable Parquet file ({str(exc).splitlines()[0][:160]})"
                continue
            out.append((o, schema, rows))
        return out


async def crawl_path(
    catalog: GlueCatalog,
    filesystem: Any,
    database: str,
    path: str,
    *,
    crawler: str,
    table_prefix: str = "",
    update_schema: bool = True,
    table_name: str | None = None,
) -> CrawlReport:
    """Crawl ``path`` (``s3://bucket/prefix/``) into a table of ``database`` (named after the path's last part
    unless ``table_name`` is given); the report says what changed."""
    location = Location.parse(path)
    report = CrawlReport(location.uri)
    footers, skipped = await asyncio.to_thread(_scan, filesystem, location)
    report.left_out.update(skipped)
    if not footers:
        report.conflicts.append("no Parquet objects below this path")
        return report
    layout = partition_layout([o.relative for o, _, _ in footers])
    report.left_out.update(layout.left_out)
    kept = [(o, s, r) for o, s, r in footers if o.relative in layout.values]
    name = table_name or table_name_for(location.prefix, table_prefix)
    report.table = name
    union = SchemaUnion()
    for o, schema, _ in kept:
        union.add(schema, o.relative, skip=frozenset(layout.keys))
    report.conflicts += union.conflicts
    report.objects = len(kept)
    report.records = sum(rows for _, _, rows in kept)
    try:
        existing: TableDef | None = catalog.table(database, name)
    except EntityNotFoundException:
        existing = None
    columns = dict(union.columns)
    keys = [{"Name": k, "Type": "string"} for k in layout.keys]
    if existing is not None:
        old = {c["Name"]: c["Type"] for c in existing.columns}
        merged = dict(old)
        for column, kind in columns.items():
            if column not in old:
                report.columns_added.append(column)
                merged[column] = kind
            elif (wider := widen(old[column], kind)) != old[column]:
                report.columns_widened.append(f"{column}: {old[column]} -> {wider}")
                merged[column] = wider
        if not update_schema:
            merged, report.columns_added, report.columns_widened = old, [], []
        columns = merged
        if [k["Name"] for k in existing.partition_keys] != layout.keys:
            report.conflicts.append(
                f"the table's partition keys {[k['Name'] for k in existing.partition_keys]} differ from the layout "
                f"found {layout.keys}; the table is left as it is"
            )
            return report
    else:
        report.created = True
        report.columns_added = list(columns)
    column_list = [{"Name": c, "Type": t} for c, t in columns.items()]
    parameters = {
        **(existing.parameters if existing is not None else {}),
        "classification": "parquet",
        "compressionType": "none",
        "typeOfData": "file",
        "recordCount": str(report.records),
        "objectCount": str(report.objects),
        "sizeKey": str(sum(o.size for o, _, _ in kept)),
        "UPDATED_BY_CRAWLER": crawler,
        "CrawlerSchemaSerializerVersion": "1.0",
        "CrawlerSchemaDeserializerVersion": "1.0",
    }
    created = existing.created_ms if existing is not None else now_ms()
    table = TableDef.parse(
        database,
        {
            "Name": name,
            "StorageDescriptor": parquet_storage(location.uri, column_list, {}),
            "PartitionKeys": keys,
            "TableType": "EXTERNAL_TABLE",
            "Parameters": parameters,
        },
        created,
        now_ms(),
        existing.version + 1 if existing is not None else 0,
    )
    if report.changed or existing is None or existing.parameters != parameters:
        await catalog.put_table(table)
    if layout.keys:
        have = set(catalog.partitions_of(table))
        by_values: dict[tuple[str, ...], str] = {}
        for o, _, _ in kept:
            values = layout.values[o.relative]
            by_values.setdefault(values, o.relative.rsplit("/", 1)[0] + "/")
        new = [
            PartitionDef.parse(
                database,
                table,
                {"Values": list(v), "StorageDescriptor": parquet_storage(location.uri + d, column_list, {})},
                "Partition",
                now_ms(),
            )
            for v, d in sorted(by_values.items())
            if v not in have
        ]
        for start in range(0, len(new), 100):
            await catalog.put_partitions(table, new[start : start + 100])
        report.partitions_added = [list(p.values) for p in new]
        report.partitions_total = len(have) + len(new)
    return report
