"""What a crawler concludes from the objects under a path (pure): the table's columns, its partition keys, and
which partition each object belongs to.

**Types** come from each Parquet footer's Arrow schema, in Glue's Hive names (``int64`` is ``bigint``, ``float64``
``double``, ``timestamp[ms, UTC]`` ``timestamp``, lists ``array<…>``, structs ``struct<…>``...).

**Widening**, when files disagree on a column's type (the column keeps its place of first appearance):

1. integers widen to the larger: ``tinyint`` < ``smallint`` < ``int`` < ``bigint``;
2. integers with ``float`` or ``double``, and ``float`` with ``double``, give ``double``;
3. ``decimal`` with any other number gives ``double``, two decimals the wider ``decimal(p, s)``;
4. ``date`` with ``timestamp`` gives ``timestamp``;
5. anything else (a string and a number, two different structs...) gives ``string``: every value still reads,
   as text, and the conflict is reported.

A column missing from some files is kept (its value is NULL there).

**Partitions** are the directories between the crawled path and each object. A level where every directory is
``name=value`` (Hive style) is a key called ``name``; any other level is ``partition_<i>``, as Glue names them, with
the directory as value: Firehose's default ``yyyy/MM/dd/HH/`` layout becomes ``partition_0`` .. ``partition_3``.
Objects at a depth other than the most common one are left out and reported. Keys are of type ``string``.
Only ``*.parquet`` objects count; paths with a part starting with ``_`` or ``.`` are skipped (Hadoop's
hidden-file rule, which also skips kemu's ``_kemu/`` state).
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

import pyarrow as pa

from emulator.lake.types import hive_type

_INTEGERS = ["tinyint", "smallint", "int", "bigint"]
_DECIMAL = re.compile(r"decimal\((\d+),\s*(\d+)\)")
_HIVE_DIR = re.compile(r"([^=/]+)=([^/]*)")


def widen(a: str, b: str) -> str:
    """The type that holds values of both ``a`` and ``b`` (the module's rules 1-5)."""
    if a == b:
        return a
    if a in _INTEGERS and b in _INTEGERS:
        return _INTEGERS[max(_INTEGERS.index(a), _INTEGERS.index(b))]
    numeric = [*_INTEGERS, "float", "double"]
    da, db = _DECIMAL.fullmatch(a), _DECIMAL.fullmatch(b)
    if da and db:
        scale = max(int(da[2]), int(db[2]))
        digits = max(int(da[1]) - int(da[2]), int(db[1]) - int(db[2]))
        return f"decimal({min(38, digits + scale)},{scale})"
    if (da and b in numeric) or (db and a in numeric):
        return "double"
    if a in numeric and b in numeric:
        return "double"
    if {a, b} == {"date", "timestamp"}:
        return "timestamp"
    return "string"


@dataclass
class SchemaUnion:
    """Columns over many files, in order of first appearance, widened as files disagree."""

    columns: dict[str, str] = field(default_factory=dict)
    conflicts: list[str] = field(default_factory=list)

    def add(self, schema: pa.Schema, where: str, skip: frozenset[str] = frozenset()) -> None:
        for f in schema:
            name = f.name.lower()
            if name in skip:
                continue
            kind = hive_type(f.type)
            known = self.columns.get(name)
            if known is None:
                self.columns[name] = kind
                continue
            wider = widen(known, kind)
            if wider == "string" and known != kind:
                self.conflicts.append(f"column {name}: {known} in earlier files, {kind} in {where}; read as string")
            self.columns[name] = wider


def is_data_key(relative: str) -> bool:
    """Whether an object (its key below the crawled path) is data the crawler reads."""
    parts = relative.split("/")
    return relative.lower().endswith(".parquet") and not any(p.startswith(("_", ".")) for p in parts if p)


@dataclass(frozen=True)
class Layout:
    """The partition keys found, each object's partition values, and the objects left out (with why)."""

    keys: list[str]
    values: dict[str, tuple[str, ...]]
    left_out: dict[str, str]


def partition_layout(relative_keys: list[str]) -> Layout:
    """Partition keys and values of objects given by their keys relative to the crawled path."""
    dirs = {key: [d for d in key.split("/")[:-1]] for key in relative_keys}
    if not dirs:
        return Layout([], {}, {})
    depth = Counter(len(d) for d in dirs.values()).most_common(1)[0][0]
    left_out = {
        k: f"{len(d)} directory levels where the others have {depth}" for k, d in dirs.items() if len(d) != depth
    }
    kept = {k: d for k, d in dirs.items() if len(d) == depth}
    keys: list[str] = []
    hive: list[bool] = []
    for level in range(depth):
        matches = [_HIVE_DIR.fullmatch(d[level]) for d in kept.values()]
        names = {m[1].lower() for m in matches if m is not None}
        named = all(m is not None for m in matches) and len(names) == 1
        name = names.pop() if named else f"partition_{level}"
        hive.append(named)
        keys.append(name if name not in keys else f"partition_{level}")
    values: dict[str, tuple[str, ...]] = {}
    for key, d in kept.items():
        values[key] = tuple(
            (m[2] if (m := _HIVE_DIR.fullmatch(part)) is not None and hive[i] else part) for i, part in enumerate(d)
        )
    return Layout(keys, values, left_out)


def table_name_for(path_prefix: str, table_prefix: str = "") -> str:
    """A table name from the crawled path's last part, as a Glue crawler makes it: lower case, ``_`` for anything
    but letters and digits."""
    last = [p for p in path_prefix.split("/") if p]
    base = last[-1] if last else "root"
    name = re.sub(r"[^a-z0-9_]", "_", (table_prefix + base).lower())
    return name[:255]


def partition_of(relative_key: str, keys: list[str]) -> tuple[str, ...] | None:
    """The partition values of one object (its key below a table's location) in a table partitioned by ``keys``,
    read as :func:`partition_layout` reads them: a level whose key is not ``partition_<i>`` is ``name=value``.
    None when the object's directories do not fit the keys."""
    dirs = relative_key.split("/")[:-1]
    if len(dirs) != len(keys):
        return None
    values: list[str] = []
    for level, (key, part) in enumerate(zip(keys, dirs, strict=True)):
        if key == f"partition_{level}":
            values.append(part)
            continue
        match = _HIVE_DIR.fullmatch(part)
        if match is None or match[1].lower() != key:
            return None
        values.append(match[2])
    return tuple(values)
