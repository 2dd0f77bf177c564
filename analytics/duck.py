"""The DuckDB connection the operators run their per-batch statements on.

Operators keep their state in Arrow tables, never in DuckDB, so a connection holds nothing between batches but
the tables registered for the next statement. The DuckDB Python client nevertheless keeps a little memory per
statement and per registration (about a kilobyte, measured with glibc's ``mallinfo2`` on duckdb 2.0.1) until the
connection is closed: at twenty micro-batches a second that is a few MB a minute, the RSS creep of a long live run.
So the connection is replaced every ``recycle_after`` statements, which bounds that memory and costs a fraction of
a millisecond each time.
"""

from __future__ import annotations

from collections.abc import Mapping

import duckdb
import pyarrow as pa


class BatchConnection:
    """Runs one statement over registered Arrow tables and returns its result as Arrow. Not thread-safe."""

    def __init__(self, recycle_after: int = 1000) -> None:
        self._recycle_after = recycle_after
        self._statements = 0
        self._con = duckdb.connect()
        self.recycled = 0

    def arrow(self, sql: str, tables: Mapping[str, pa.Table] | None = None) -> pa.Table:
        """The result of ``sql``, which may read ``tables`` by their names (the engine's are
        :mod:`analytics.columns`' constants)."""
        if self._statements >= self._recycle_after:
            self._con.close()
            self._con = duckdb.connect()
            self._statements = 0
            self.recycled += 1
        self._statements += 1
        # Registering over the previous table of the same name is cheaper than unregistering after each query.
        for name, table in (tables or {}).items():
            self._con.register(name, table)
        return self._con.sql(sql).to_arrow_table()

    def close(self) -> None:
        self._con.close()
