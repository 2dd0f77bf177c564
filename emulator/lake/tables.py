"""A catalog table as a query engine needs it (plain data, no catalog objects): where its files are, its columns,
its partition keys and each partition's values and location."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class ResolvedTable:
    database: str
    name: str
    location: str | None
    #: (name, Hive type) of the data columns, then of the partition keys.
    columns: list[tuple[str, str]]
    partition_keys: list[tuple[str, str]]
    #: (values, location) of each partition; empty for an unpartitioned table.
    partitions: list[tuple[tuple[str, ...], str | None]] = field(default_factory=list)
