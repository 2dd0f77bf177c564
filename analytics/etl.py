"""Stateless queries (streaming ETL): the user's SELECT over each batch, rows out in input order.

A row whose ``error`` column is set is not an output row: it goes to the error topic with that reason.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pyarrow as pa

from analytics.columns import BATCH
from analytics.duck import BatchConnection
from analytics.emissions import BadRecord, BatchOutcome, json_value
from analytics.plan import CompiledQuery, EtlPlan


class EtlOperator:
    """Runs one stateless query per batch. Holds no state, so its checkpoint is the source offsets alone."""

    def __init__(self, query: CompiledQuery) -> None:
        if not isinstance(query.plan, EtlPlan):
            raise ValueError(f"{query.name} is a windowed query")
        self.query = query
        self._sql = query.plan.sql
        self.late_count = 0
        self._db = BatchConnection()

    def process(self, batch: pa.Table, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        outcome = BatchOutcome()
        if batch.num_rows == 0:
            return outcome
        table = self._db.arrow(self._sql, {BATCH: batch})
        rows: list[dict[str, Any]] = [{k: json_value(v) for k, v in row.items()} for row in table.to_pylist()]
        for row in rows:
            reason = row.get("error")
            if reason:
                raw = str({k: v for k, v in row.items() if k != "error"})
                outcome.errors.append(BadRecord(self.query.name, -1, -1, str(reason), raw))
            else:
                row.pop("error", None)
                outcome.rows.append(row)
        return outcome

    def check(self, batch: pa.Table) -> None:
        """Run the query on ``batch`` as :meth:`process` does and raise what it raises (it holds no state)."""
        self.process(batch, 0)

    def tick(self, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        return BatchOutcome()

    def finish(self) -> BatchOutcome:
        return BatchOutcome()

    def assign(self, partitions: list[int], now_ms: int) -> None:
        """Nothing to track: a stateless query has no event time."""

    def state_size(self) -> tuple[int, int]:
        return 0, 0

    @property
    def watermark(self) -> int:
        return 0

    def snapshot(self) -> tuple[dict[str, object], pa.Table | None]:
        return {}, None

    def restore(self, meta: dict[str, object], state: pa.Table | None, now_ms: int) -> None:
        """Nothing to restore: the offsets carry everything."""
