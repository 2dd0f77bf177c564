"""S3 locations, objects and Parquet footers, through pyarrow's S3 filesystem (blocking: run in a thread).

pyarrow's filesystem is already how kemu reads S3 without DuckDB's httpfs (``emulator/duck.py``); a footer read is
two ranged GETs (the length, then the metadata), never the whole object.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import pyarrow as pa

    from sinks import S3Connection

LOCATION_RE = re.compile(r"s3a?://(?P<bucket>[a-z0-9][a-z0-9.-]{1,61}[a-z0-9])(?:/(?P<prefix>[^\x00-\x1f]*))?")


class LocationError(ValueError):
    """A location that is not ``s3://bucket/prefix``."""


@dataclass(frozen=True, slots=True)
class Location:
    """``s3://bucket/prefix/``: ``prefix`` is empty or ends with ``/``."""

    bucket: str
    prefix: str

    @classmethod
    def parse(cls, uri: str) -> Location:
        match = LOCATION_RE.fullmatch(uri)
        if match is None:
            raise LocationError(f"{uri[:120]!r} is not an S3 location such as s3://bucket/prefix/")
        prefix = match["prefix"] or ""
        if ".." in prefix.split("/"):
            raise LocationError(f"{uri[:120]!r}: a location may not contain '..'")
        return cls(match["bucket"], prefix if not prefix or prefix.endswith("/") else prefix + "/")

    @property
    def uri(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    @property
    def arrow_path(self) -> str:
        return f"{self.bucket}/{self.prefix}".rstrip("/")


@dataclass(frozen=True, slots=True)
class ObjectInfo:
    """An object below a location: its key relative to it, its pyarrow path, size and modification time."""

    relative: str
    path: str
    size: int
    mtime_ms: int


def arrow_s3(connection: S3Connection) -> Any:
    """pyarrow's S3 filesystem on ``connection`` (path-style, as MinIO wants)."""
    from pyarrow import fs

    if not connection.endpoint_url:
        return fs.S3FileSystem(
            access_key=connection.access_key_id,
            secret_key=connection.secret_access_key.get_secret_value() if connection.secret_access_key else None,
            region=connection.region,
        )
    parts = urlsplit(connection.endpoint_url)
    return fs.S3FileSystem(
        endpoint_override=parts.netloc,
        scheme=parts.scheme or "http",
        access_key=connection.access_key_id,
        secret_key=connection.secret_access_key.get_secret_value() if connection.secret_access_key else None,
        region=connection.region,
        force_virtual_addressing=False,
        connect_timeout=2,
        request_timeout=30,
    )


def list_objects(filesystem: Any, location: Location) -> list[ObjectInfo]:
    """Every object below ``location`` (recursively), sorted by key; empty when there is none."""
    from pyarrow import fs

    selector = fs.FileSelector(location.arrow_path, recursive=True, allow_not_found=True)
    base = location.arrow_path + "/"
    out = []
    for info in filesystem.get_file_info(selector):
        if info.type != fs.FileType.File or not info.path.startswith(base):
            continue
        mtime = info.mtime_ns // 1_000_000 if info.mtime_ns is not None else 0
        out.append(ObjectInfo(info.path[len(base) :], info.path, info.size or 0, mtime))
    return sorted(out, key=lambda o: o.relative)


def read_footer(filesystem: Any, path: str) -> tuple[pa.Schema, int]:
    """The Arrow schema and row count of the Parquet object at ``path`` (bucket/key)."""
    import pyarrow.parquet as pq

    with filesystem.open_input_file(path) as handle:
        metadata = pq.ParquetFile(handle).metadata
        return metadata.schema.to_arrow_schema(), metadata.num_rows
