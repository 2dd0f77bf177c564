"""One partition's buffer → the objects to PUT (Parquet data, JSON-lines errors). Pure: no I/O, no clock.

The same records and the same registry always give the same keys and the same bytes, which is what lets a replay
after a crash overwrite objects instead of duplicating them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from sinks.buffering import PackedBuffer, PackedRecords
from sinks.config import DeliveryStreamConfig
from sinks.encoding import encode_batch, to_parquet
from sinks.error_output import error_line
from sinks.exceptions import IsolatedError, PartitioningError, PrefixError, RecordError
from sinks.naming import DATA_EXTENSION, ERROR_EXTENSION, object_name, random_string, record_time
from sinks.prefixes import KeyLayout, check_partition_value
from sinks.schema import SchemaRegistry


@dataclass(frozen=True)
class PendingObject:
    """An object ready to PUT."""

    key: str
    body: bytes
    content_type: str
    is_error: bool
    records: int


def partition_objects(
    config: DeliveryStreamConfig,
    layout: KeyLayout,
    registry: SchemaRegistry,
    buffer: PackedBuffer,
    quarantine: Mapping[int, str] | None = None,
) -> tuple[list[PendingObject], int]:
    """Objects (data, then errors) of one partition's buffer, and how many records failed.

    ``quarantine`` maps offsets of records that must not be converted (they crashed the converter) to the reason
    they go to the errors with."""
    topic, partition = config.source_topic, buffer.partition
    kept: list[int] | None = None
    records = buffer.records
    if quarantine:
        kept = [i for i, offset in enumerate(buffer.offsets) if offset not in quarantine]
        records = PackedRecords.of([buffer.record(i) for i in kept])
    converted = encode_batch(records, registry)

    def source_index(row: int) -> int:
        index = converted.source_index(row)
        return index if kept is None else kept[index]

    errors: list[tuple[int, RecordError]] = [(i if kept is None else kept[i], e) for i, e in converted.errors]
    if quarantine:
        errors += [(i, IsolatedError(quarantine[o])) for i, o in enumerate(buffer.offsets) if o in quarantine]
    table = converted.table
    keys = layout.partition_keys
    groups: dict[tuple[str, ...], list[int]] = {}
    if table.num_rows and keys:
        columns = [table.column(k).to_pylist() if k in table.column_names else [None] * table.num_rows for k in keys]
        for row in range(table.num_rows):
            try:
                values = tuple(check_partition_value(k, col[row]) for k, col in zip(keys, columns, strict=True))
            except ValueError as exc:
                errors.append((source_index(row), PartitioningError(str(exc))))
                continue
            groups.setdefault(values, []).append(row)
    elif table.num_rows:
        groups[()] = list(range(table.num_rows))
    objects: list[PendingObject] = []
    for values, rows in groups.items():
        first = source_index(rows[0])
        first_offset = buffer.offsets[first]
        when = record_time(buffer.timestamps[first])
        try:
            prefix = layout.render_data(
                when, random_string(topic, partition, first_offset), dict(zip(keys, values, strict=True))
            )
        except PrefixError as exc:
            errors.extend((source_index(r), PartitioningError(str(exc))) for r in rows)
            continue
        sub = table if len(rows) == table.num_rows else table.take(rows)
        metadata = {
            "kemu.topic": topic,
            "kemu.partition": str(partition),
            "kemu.first_offset": str(first_offset),
            "kemu.last_offset": str(buffer.offsets[source_index(rows[-1])]),
            "kemu.records": str(len(rows)),
        }
        body = to_parquet(sub, config.compression, metadata)
        key = prefix + object_name(config.name, topic, partition, first_offset, when, DATA_EXTENSION)
        objects.append(PendingObject(key, body, "application/vnd.apache.parquet", False, len(rows)))
    objects.extend(_error_objects(config, layout, buffer, errors))
    return objects, len(errors)


def _error_objects(
    config: DeliveryStreamConfig, layout: KeyLayout, buffer: PackedBuffer, errors: list[tuple[int, RecordError]]
) -> list[PendingObject]:
    topic, partition = config.source_topic, buffer.partition
    by_type: dict[str, list[tuple[int, RecordError]]] = {}
    for index, error in sorted(errors, key=lambda pair: pair[0]):
        by_type.setdefault(error.output_type, []).append((index, error))
    objects = []
    for output_type, items in sorted(by_type.items()):
        first = items[0][0]
        first_offset = buffer.offsets[first]
        when = record_time(buffer.timestamps[first])
        prefix = layout.render_error(when, random_string(topic, partition, first_offset), output_type)
        body = b"".join(
            error_line(err, buffer.record(i), topic, partition, buffer.offsets[i], buffer.timestamps[i])
            for i, err in items
        )
        key = prefix + object_name(config.name, topic, partition, first_offset, when, ERROR_EXTENSION)
        objects.append(PendingObject(key, body, "application/x-ndjson", True, len(items)))
    return objects
