"""DuckDB for one query: the catalog's tables as views over their S3 files, and nothing else reachable.

**Files.** A table's files reach DuckDB through one fsspec filesystem per query (:class:`LakeFileSystem`, protocol
``lake://``) that maps names of the form ``lake://<n>/<key>=<value>/.../<i>.parquet`` to the real S3 objects. Every
table therefore looks Hive-partitioned to DuckDB, whatever its real layout (Firehose's ``yyyy/MM/dd/HH``, a
partition registered at any location), and DuckDB's own Hive filter pushdown prunes the partitions a query's
``WHERE`` excludes: their files are never opened. Objects are read through pyarrow's S3 filesystem (no httpfs).

**Lock-down.** Before the user's SQL runs, the connection refuses local files (``disabled_filesystems``), external
access other than ``lake://`` (``enable_external_access = false`` with ``allowed_directories``), extension loading,
and any later change of these (``lock_configuration``). ``lake://`` itself opens for reading only. COPY, ATTACH,
``read_csv('/etc/passwd')``, ``read_parquet('http://…')`` and ``INSTALL`` all fail.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Protocol
from urllib.parse import quote

from fsspec import AbstractFileSystem

from emulator.athena.errors import QueryFailed
from emulator.lake.objects import ObjectInfo
from emulator.lake.tables import ResolvedTable

PROTOCOL = "lake"

#: Hive/Glue type → DuckDB type for the simple types; complex ones keep what the files hold.
DUCK_TYPES = {
    "string": "VARCHAR",
    "varchar": "VARCHAR",
    "char": "VARCHAR",
    "bigint": "BIGINT",
    "long": "BIGINT",
    "int": "INTEGER",
    "integer": "INTEGER",
    "smallint": "SMALLINT",
    "tinyint": "TINYINT",
    "double": "DOUBLE",
    "float": "FLOAT",
    "real": "FLOAT",
    "boolean": "BOOLEAN",
    "timestamp": "TIMESTAMP",
    "date": "DATE",
    "binary": "BLOB",
}


def duck_type(hive: str) -> str | None:
    """The DuckDB type of a Glue column type, or None when the files' own type is kept (arrays, structs, maps)."""
    base = hive.split("(")[0].strip()
    if base == "decimal":
        return hive.upper()
    if base in ("varchar", "char"):
        return "VARCHAR"
    return DUCK_TYPES.get(base)


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class LakeFileSystem(AbstractFileSystem):  # type: ignore[misc]  # fsspec is untyped
    """Read-only ``lake://`` names of one query, each mapped to one S3 object (its path, size and time)."""

    protocol = (PROTOCOL,)
    cachable = False

    def __init__(self, s3: Any, files: dict[str, ObjectInfo]) -> None:
        super().__init__()
        self._s3 = s3
        self._files = files
        #: Names opened since the last reset: what a query read (Athena's DataScannedInBytes counts their sizes).
        self.opened: set[str] = set()

    def scanned_bytes(self) -> int:
        return sum(self._files[name].size for name in self.opened)

    def _object(self, path: str) -> ObjectInfo:
        found = self._files.get(self._strip_protocol(path))
        if found is None:
            raise FileNotFoundError(path)
        return found

    def _open(self, path: str, mode: str = "rb", **kwargs: Any) -> Any:
        if mode != "rb":
            raise PermissionError("lake:// is read-only: queries cannot write files")
        found = self._object(path)
        self.opened.add(self._strip_protocol(path))
        return PositionalReads(self._s3.open_input_file(found.path), found.size)

    def info(self, path: str, **kwargs: Any) -> dict[str, Any]:
        found = self._object(path)
        return {"name": self._strip_protocol(path), "size": found.size, "type": "file"}

    def modified(self, path: str) -> Any:
        import datetime as dt

        return dt.datetime.fromtimestamp(self._object(path).mtime_ms / 1000, tz=dt.UTC)

    def ls(self, path: str, detail: bool = True, **kwargs: Any) -> list[Any]:
        base = self._strip_protocol(path).rstrip("/") + "/"
        names = [name for name in self._files if name.startswith(base)]
        return [self.info(n) for n in names] if detail else names


class RandomAccess(Protocol):
    """What :class:`PositionalReads` needs of a file: pyarrow's ``RandomAccessFile`` (``open_input_file``)."""

    def read_at(self, nbytes: int, offset: int) -> bytes: ...

    def close(self) -> None: ...


class PositionalReads:
    """A read-only file for DuckDB whose position belongs to the calling thread, read with positional reads.

    DuckDB scans one Parquet file's row groups from several threads through one handle, each as ``seek`` then
    ``read``. A shared position (a stream's) is moved by another thread while a read waits for S3 with the GIL
    released, so a thread got another's bytes: "TProtocolException: Invalid data" at 10M rows. Here each thread has
    its own position and every read says where it reads (``read_at``), so no thread moves another's.

    Reads also return as many bytes as asked until the end of the file: an S3 read may return fewer (a response cut
    short on a busy server), and DuckDB takes a short read before the end as an I/O error.
    """

    def __init__(self, raw: RandomAccess, size: int) -> None:
        self._raw = raw
        self._size = size
        self._positions = threading.local()

    def tell(self) -> int:
        position: int = getattr(self._positions, "value", 0)
        return position

    def seek(self, offset: int, whence: int = 0) -> int:
        base = {0: 0, 1: self.tell(), 2: self._size}[whence]
        self._positions.value = max(0, base + offset)
        return int(self._positions.value)

    def seekable(self) -> bool:
        return True

    def readable(self) -> bool:
        return True

    @property
    def size(self) -> int:
        return self._size

    def read(self, length: int | None = -1) -> bytes:
        start = self.tell()
        wanted = self._size - start if length is None or length < 0 else min(length, self._size - start)
        chunks: list[bytes] = []
        offset = start
        while wanted > 0:
            chunk = bytes(self._raw.read_at(wanted, offset))
            if not chunk:
                break
            chunks.append(chunk)
            offset += len(chunk)
            wanted -= len(chunk)
        self._positions.value = offset
        return b"".join(chunks)

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> PositionalReads:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class TableFiles:
    """A resolved table and its objects, by partition (the values of an unpartitioned table are ``()``)."""

    table: ResolvedTable
    objects: list[tuple[tuple[str, ...], ObjectInfo]]


def virtual_names(index: int, files: TableFiles) -> Iterator[tuple[str, ObjectInfo]]:
    """``lake://`` names (without the protocol) of a table's objects: one Hive directory per partition key."""
    keys = [k for k, _ in files.table.partition_keys]
    for i, (values, info) in enumerate(files.objects):
        dirs = "/".join(f"{quote(k, safe='')}={quote(v, safe='')}" for k, v in zip(keys, values, strict=True))
        yield f"t{index}/{dirs + '/' if dirs else ''}{i}.parquet", info


def view_sql(index: int, files: TableFiles, names: list[str], present: dict[str, str]) -> str:
    """The SELECT of a table's view: its columns in catalog order and types, NULL for a column no file has."""
    table = files.table
    parts = []
    for column, hive in table.columns:
        target = duck_type(hive)
        if column not in present:
            parts.append(f"CAST(NULL AS {target or 'VARCHAR'}) AS {quote_ident(column)}")
        elif target is not None and present[column] != target:
            parts.append(f"CAST({quote_ident(column)} AS {target}) AS {quote_ident(column)}")
        else:
            parts.append(quote_ident(column))
    for key, _ in table.partition_keys:
        parts.append(quote_ident(key))
    return f"SELECT {', '.join(parts)} FROM {source_sql(files, names)}"


def source_sql(files: TableFiles, names: list[str]) -> str:
    listed = ", ".join("'" + f"{PROTOCOL}://{n}".replace("'", "''") + "'" for n in names)
    keys = files.table.partition_keys
    options = ["union_by_name = true"]
    if keys:
        types = ", ".join(f"'{k.replace(chr(39), chr(39) * 2)}': '{duck_type(t) or 'VARCHAR'}'" for k, t in keys)
        options += ["hive_partitioning = true", f"hive_types = {{{types}}}"]
    else:
        options.append("hive_partitioning = false")
    return f"read_parquet([{listed}], {', '.join(options)})"


def empty_view_sql(table: ResolvedTable) -> str:
    """The view of a table with no files: its columns, no rows."""
    parts = [
        f"CAST(NULL AS {duck_type(t) or 'VARCHAR'}) AS {quote_ident(c)}"
        for c, t in table.columns + table.partition_keys
    ]
    return f"SELECT {', '.join(parts) or '1 AS no_columns'} WHERE false"


def connect(
    s3: Any, tables: list[TableFiles], default_database: str, memory_limit: str, threads: int
) -> tuple[Any, LakeFileSystem]:
    """A locked-down DuckDB connection with a view per table of ``tables`` (schema = its database), and its
    ``lake://`` filesystem (reset: it counts what the query itself opens)."""
    import duckdb

    connection = duckdb.connect(":memory:")
    try:
        connection.execute("SET TimeZone = 'UTC'")
        files: dict[str, ObjectInfo] = {}
        named: list[tuple[int, list[str]]] = []
        for index, table_files in enumerate(tables):
            pairs = list(virtual_names(index, table_files))
            files.update(pairs)
            named.append((index, [n for n, _ in pairs]))
        lake = LakeFileSystem(s3, files)
        connection.register_filesystem(lake)
        schemas = {default_database, *(t.table.database for t in tables)}
        for schema in sorted(schemas):
            connection.execute(f"CREATE SCHEMA IF NOT EXISTS {quote_ident(schema)}")
        for (index, names), table_files in zip(named, tables, strict=True):
            table = table_files.table
            if names:
                described = connection.execute(f"DESCRIBE SELECT * FROM {source_sql(table_files, names)}").fetchall()
                present = {row[0].lower(): str(row[1]) for row in described}
                body = view_sql(index, table_files, names, present)
            else:
                body = empty_view_sql(table)
            connection.execute(f"CREATE VIEW {quote_ident(table.database)}.{quote_ident(table.name)} AS {body}")
        connection.execute(f"USE {quote_ident(default_database)}")
        lock_down(connection, memory_limit, threads)
        lake.opened.clear()
    except duckdb.Error as exc:
        connection.close()
        raise QueryFailed(f"A table's files could not be read: {str(exc).strip()[:500]}") from exc
    except BaseException:
        connection.close()
        raise
    return connection, lake


def lock_down(connection: Any, memory_limit: str, threads: int) -> None:
    """No local files, no other hosts, no extensions, no settings changed after this (see the module doc)."""
    for statement in (
        f"SET memory_limit = '{memory_limit}'",
        f"SET threads = {int(threads)}",
        "SET autoinstall_known_extensions = false",
        "SET autoload_known_extensions = false",
        f"SET allowed_directories = ['{PROTOCOL}://']",
        "SET enable_external_access = false",
        "SET disabled_filesystems = 'LocalFileSystem'",
        "SET lock_configuration = true",
    ):
        connection.execute(statement)
