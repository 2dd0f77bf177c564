"""DuckDB with ``s3://`` paths served by the configured S3 (MinIO by default), offline.

DuckDB's own S3 support is its ``httpfs`` extension, which it downloads at run time: impossible on a machine
without internet access, and PyPI's packaged extension (``duckdb-extension-httpfs``) exists only for DuckDB 1.5.x,
while kemu's engine runs on DuckDB 2.x. So the connection reads S3 through pyarrow's S3 filesystem (C++, already a
dependency), handed to DuckDB as an fsspec filesystem (``register_filesystem``): ``read_parquet('s3://…/**/*.parquet',
hive_partitioning = true)``, ``read_json``, globs and Hive partitions work as with httpfs, with no download.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    import duckdb

    from emulator.endpoints import S3Target


def s3_filesystem(target: S3Target) -> Any:
    """An fsspec filesystem for ``s3://`` (and ``s3a://``) over pyarrow's S3 client, pointed at ``target``."""
    from fsspec.implementations.arrow import ArrowFSWrapper
    from pyarrow import fs

    parts = urlsplit(target.endpoint_url)

    class S3OverArrow(ArrowFSWrapper):  # type: ignore[misc]  # fsspec is untyped
        protocol = ("s3", "s3a")

    return S3OverArrow(
        fs.S3FileSystem(
            endpoint_override=parts.netloc,
            scheme=parts.scheme or "http",
            access_key=target.access_key_id,
            secret_key=target.secret_access_key.get_secret_value(),
            region=target.region,
            # Path-style requests: MinIO and most S3-compatible stores are addressed by path.
            force_virtual_addressing=False,
        )
    )


def connect(target: S3Target, database: str = ":memory:") -> duckdb.DuckDBPyConnection:
    """A DuckDB connection that reads (and writes) ``s3://`` paths on ``target``."""
    import duckdb

    connection = duckdb.connect(database)
    connection.register_filesystem(s3_filesystem(target))
    return connection
