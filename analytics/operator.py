"""The incremental window operator: partial aggregates of open windows only, merged per micro-batch.

Per batch: rows are assigned to windows; (row, window) pairs whose window already closed are routed as late;
the rest are pre-aggregated per (window, keys) and merged into the state, which holds one row per open
(window, keys). Then the watermark advances, windows it passed (end + lateness) are emitted final and leave the
state, and, in ``changes`` mode, every other window the batch touched is emitted with its current result.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from analytics.compiler import WATERMARK_TOKEN, CompiledQuery
from analytics.duck import BatchConnection
from analytics.emissions import BatchOutcome, LateEvent, WindowResult, json_value
from analytics.watermarks import WatermarkTracker
from analytics.windows import windowed_sql

_WINDOW_KEYS = pa.schema([("__ws", pa.int64()), ("__we", pa.int64())])


def event_time_ms(batch: pa.Table, column: str) -> pa.ChunkedArray:
    """The event-time column as integer epoch milliseconds."""
    micros = pc.cast(batch.column(column), pa.timestamp("us")).cast(pa.int64())
    return pc.divide(micros, 1000)  # integer division; event times are after 1970


def partition_maxima(batch: pa.Table, column: str) -> dict[int, int | None]:
    """Per ``__partition``, the largest event time (ms) in the batch."""
    if batch.num_rows == 0:
        return {}
    table = pa.table({"p": batch.column("__partition"), "t": event_time_ms(batch, column)})
    grouped = table.group_by("p").aggregate([("t", "max")]).to_pydict()
    return {int(p): (None if t is None else int(t)) for p, t in zip(grouped["p"], grouped["t_max"], strict=True)}


class WindowOperator:
    """Runs one windowed query incrementally. Not thread-safe; one per query."""

    def __init__(self, query: CompiledQuery) -> None:
        if query.window is None or query.partial_sql is None or query.merge_sql is None or query.result_sql is None:
            raise ValueError(f"{query.name} is not a windowed query")
        self.query = query
        self.window = query.window
        self.lateness_ms = query.lateness_ms
        self.watermarks = WatermarkTracker(query.out_of_orderness_ms, query.idle_timeout_ms)
        self.late_count = 0
        self._db = BatchConnection()
        self._partial_sql = query.partial_sql
        self._merge_sql = query.merge_sql
        self._result_sql = query.result_sql
        self._late_sql = (
            f"WITH __windowed AS ({windowed_sql(self.window, '__batch')}) "
            "SELECT __partition, __offset, min(__et) AS __et, list(__ws ORDER BY __ws) AS __missed_ws, "
            "list(__we ORDER BY __ws) AS __missed_we FROM __windowed "
            f"WHERE __we + {self.lateness_ms} <= {WATERMARK_TOKEN} GROUP BY __partition, __offset "
            "ORDER BY __partition, __offset"
        )
        self.state: pa.Table | None = None

    # -- SQL helpers --------------------------------------------------------------------------------------------
    def _arrow(self, sql: str, **tables: pa.Table) -> pa.Table:
        return self._db.arrow(sql, **tables)

    def _empty_state(self, batch: pa.Table) -> pa.Table:
        sql = self._partial_sql.replace(WATERMARK_TOKEN, "0")
        return self._arrow(sql, __batch=batch.schema.empty_table())

    # -- the per-batch steps ----------------------------------------------------------------------------------------
    def process(self, batch: pa.Table, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        """Fold one decoded batch (source columns plus ``__partition``/``__offset``) into the state and emit.

        ``busy`` names the partitions that still have unread records: they cannot count as idle."""
        outcome = BatchOutcome()
        touched: pa.Table | None = None
        if batch.num_rows:
            watermark = self.watermarks.watermark
            if self.state is None:
                self.state = self._empty_state(batch)
            if self._may_be_late(batch, watermark):
                outcome.late = self._late_events(batch, watermark)
                self.late_count += len(outcome.late)
            partials = self._arrow(self._partial_sql.replace(WATERMARK_TOKEN, str(watermark)), __batch=batch)
            if partials.num_rows:
                self.state = self._arrow(self._merge_sql, __state=self.state, __partials=partials)
                touched = partials.select(["__ws", "__we"]).group_by(["__ws", "__we"]).aggregate([])
            for partition, maximum in partition_maxima(batch, self.window.time_column).items():
                self.watermarks.observe(partition, maximum, now_ms)
        self.watermarks.advance(now_ms, busy)
        outcome.extend(self._emit(touched))
        return outcome

    def tick(self, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        """No records arrived: idle partitions may still let the watermark, and so final emissions, advance."""
        return self.process(pa.table({}), now_ms, busy) if self.state is not None else BatchOutcome()

    def finish(self) -> BatchOutcome:
        """End of input (replay): close every open window."""
        self.watermarks.flush()
        return self._emit(None)

    def _may_be_late(self, batch: pa.Table, watermark: int) -> bool:
        # Every window of an event at t ends after t, so no pair can be closed when t_min + 1 + lateness > watermark.
        earliest = pc.min(event_time_ms(batch, self.window.time_column)).as_py()
        return earliest is not None and earliest + 1 + self.lateness_ms <= watermark

    def _late_events(self, batch: pa.Table, watermark: int) -> list[LateEvent]:
        late = self._arrow(self._late_sql.replace(WATERMARK_TOKEN, str(watermark)), __batch=batch)
        if late.num_rows == 0:
            return []
        events = self._arrow(
            "SELECT * FROM __batch SEMI JOIN __late USING (__partition, __offset) ORDER BY __partition, __offset",
            __batch=batch,
            __late=late.select(["__partition", "__offset"]),
        )
        found = []
        for info, event in zip(late.to_pylist(), events.to_pylist(), strict=True):
            body = {k: json_value(v) for k, v in event.items() if not k.startswith("__")}
            missed = list(zip(info["__missed_ws"], info["__missed_we"], strict=True))
            found.append(
                LateEvent(self.query.name, info["__partition"], info["__offset"], info["__et"], watermark, missed, body)
            )
        return found

    def _emit(self, touched: pa.Table | None) -> BatchOutcome:
        outcome = BatchOutcome()
        if self.state is None or self.state.num_rows == 0:
            return outcome
        watermark = self.watermarks.watermark
        closing_mask = pc.less_equal(pc.add(self.state.column("__we"), self.lateness_ms), watermark)
        closing = self.state.filter(closing_mask).select(["__ws", "__we"]).group_by(["__ws", "__we"]).aggregate([])
        changed = closing.schema.empty_table()
        if self.query.header.emit == "changes" and touched is not None and touched.num_rows:
            changed = touched.filter(pc.greater(pc.add(touched.column("__we"), self.lateness_ms), watermark))
        if closing.num_rows or changed.num_rows:
            # One result query for both kinds of window; closing ones come first, as they are older.
            outcome.results = self._results(closing.cast(_WINDOW_KEYS), changed.cast(_WINDOW_KEYS))
        if closing.num_rows:
            self.state = self.state.filter(pc.invert(closing_mask))
        return outcome

    def _results(self, closing: pa.Table, changed: pa.Table) -> list[WindowResult]:
        """The query's output for each window, one emission per window (an empty one when nothing is left)."""
        assert self.state is not None  # noqa: S101 - callers check
        closing = closing.sort_by([("__ws", "ascending"), ("__we", "ascending")])
        changed = changed.sort_by([("__ws", "ascending"), ("__we", "ascending")])
        table = self._arrow(self._result_sql, __state=self.state, __sel=pa.concat_tables([closing, changed]))
        rows_by_window: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for row in table.to_pylist():
            key = (row.pop("__ws"), row.pop("__we"))
            rows_by_window.setdefault(key, []).append({k: json_value(v) for k, v in row.items()})
        name, watermark = self.query.name, self.watermarks.watermark
        results = []
        for windows, final in ((closing, True), (changed, False)):
            starts, ends = windows.column("__ws").to_pylist(), windows.column("__we").to_pylist()
            for ws, we in zip(starts, ends, strict=True):
                rows = rows_by_window.get((ws, we), [])
                results.append(WindowResult(name, ws, we, final, watermark, rows, self.window.kind == "session"))
        return results

    # -- checkpoints ------------------------------------------------------------------------------------------------
    @property
    def open_windows(self) -> int:
        if self.state is None or self.state.num_rows == 0:
            return 0
        return int(self.state.select(["__ws", "__we"]).group_by(["__ws", "__we"]).aggregate([]).num_rows)

    def snapshot(self) -> tuple[dict[str, object], pa.Table | None]:
        meta: dict[str, object] = {"watermarks": self.watermarks.snapshot(), "late_count": self.late_count}
        return meta, self.state

    def restore(self, meta: dict[str, object], state: pa.Table | None, now_ms: int) -> None:
        watermarks = meta.get("watermarks", {})
        assert isinstance(watermarks, dict)  # noqa: S101 - written by snapshot()
        self.watermarks.restore(watermarks, now_ms)
        self.late_count = int(str(meta.get("late_count", 0)))
        self.state = state
