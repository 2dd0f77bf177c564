"""The operators' DuckDB connection: statements over registered Arrow tables, recycled to bound its memory."""

from __future__ import annotations

import pyarrow as pa

from analytics.duck import BatchConnection


def test_statements_read_the_tables_registered_with_them_across_recycling() -> None:
    db = BatchConnection(recycle_after=3)
    for i in range(10):
        table = pa.table({"k": ["a", "b", "a"], "v": [i, 1, 2]})
        result = db.arrow("SELECT k, sum(v) AS s FROM t GROUP BY k ORDER BY k", {"t": table})
        assert result.to_pylist() == [{"k": "a", "s": i + 2}, {"k": "b", "s": 1}]
    assert db.recycled == 3  # after statements 3, 6 and 9
    db.close()


def test_a_table_registered_under_an_old_name_is_replaced() -> None:
    db = BatchConnection()
    db.arrow("SELECT 1", {"t": pa.table({"x": [1]})})
    assert db.arrow("SELECT count(*) AS n FROM t", {"t": pa.table({"x": [1, 2, 3]})}).to_pylist() == [{"n": 3}]
    db.close()
