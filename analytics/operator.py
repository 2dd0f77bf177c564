"""The incremental window operator: partial aggregates of open windows only, merged per micro-batch.

Per batch: rows are assigned to windows; (row, window) pairs whose window already closed are routed as late;
the rest are pre-aggregated per (window, keys) and merged into the state, which holds one row per open
(window, keys). Then the watermark advances, windows it passed (end + lateness) are emitted final and leave the
state, and, in ``changes`` mode, every other window the batch touched is emitted with its current result.

The batches' partial aggregates wait in a list until a result needs the merged state (changes to emit, a window
closing, a checkpoint) or the list grows as large as the state; the merge, which reads the whole state, then runs
once for many batches. With ``emit: final``, or an ``emit_interval`` (changed windows collected and emitted together
at most once per interval), most batches need no merge: a rolling board (HOP of 10 minutes every 10 seconds) has 60
open windows per key, and merging and ranking them after every micro-batch was most of the engine's CPU.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from analytics.columns import (
    BATCH,
    ET,
    GROUP_PREFIX,
    LATE,
    MISSED_WE,
    MISSED_WS,
    OFFSET,
    OPEN,
    PANE,
    PANES,
    PARTIALS,
    PARTITION,
    ROWS,
    SEL,
    STATE,
    TOUCHED,
    WE,
    WM,
    WS,
)
from analytics.compiler import LATE_KEYS
from analytics.duck import BatchConnection
from analytics.emissions import BatchOutcome, LateEvent, WindowResult, json_value
from analytics.plan import CompiledQuery, window_plan
from analytics.sessions import WATERMARK_TOKEN
from analytics.watermarks import MIN_WATERMARK, WatermarkTracker
from analytics.windows import windows_of

_WINDOW_KEYS = pa.schema([(WS, pa.int64()), (WE, pa.int64())])
#: Pending partials are merged once they are this many rows, even if the state is smaller.
_FOLD_AT_LEAST = 100_000


def _distinct_windows(tables: list[pa.Table]) -> pa.Table:
    """The distinct (``__ws``, ``__we``) pairs of ``tables``."""
    windows = pa.concat_tables([t.select([WS, WE]).cast(_WINDOW_KEYS) for t in tables])
    return windows.group_by([WS, WE]).aggregate([])


def event_time_ms(batch: pa.Table, column: str) -> pa.ChunkedArray:
    """The event-time column as integer epoch milliseconds, floored (the rule of :func:`windows.timed_sql`)."""
    micros = pc.cast(batch.column(column), pa.timestamp("us")).cast(pa.int64())
    truncated = pc.divide(micros, 1000)  # integer division truncates towards zero: one less below zero
    below = pc.less(pc.subtract(micros, pc.multiply(truncated, 1000)), 0)
    return pc.if_else(below, pc.subtract(truncated, 1), truncated)


def partition_maxima(batch: pa.Table, column: str) -> dict[int, int | None]:
    """Per ``__partition``, the largest event time (ms) in the batch."""
    if batch.num_rows == 0:
        return {}
    table = pa.table({"p": batch.column(PARTITION), "t": event_time_ms(batch, column)})
    grouped = table.group_by("p").aggregate([("t", "max")]).to_pydict()
    return {int(p): (None if t is None else int(t)) for p, t in zip(grouped["p"], grouped["t_max"], strict=True)}


class WindowOperator:
    """Runs one windowed query incrementally. Not thread-safe; one per query."""

    def __init__(self, query: CompiledQuery, throttle: bool = True) -> None:
        """``throttle=False`` ignores the query's ``emit_interval`` (replays, where processing time stands still)."""
        self.query = query
        self.plan = window_plan(query)
        self.window = self.plan.window
        self.lateness_ms = query.lateness_ms
        self.watermarks = WatermarkTracker(query.out_of_orderness_ms, query.idle_timeout_ms)
        self.late_count = 0
        self._db = BatchConnection()
        self._partial_sql = self.plan.partial_sql
        self._merge_sql = self.plan.merge_sql
        self._result_sql = self.plan.result_sql
        #: One row per open (window, keys), merged; None until the first batch gives the schema.
        self.state: pa.Table | None = None
        #: Partial aggregates of batches not merged into :attr:`state` yet (rows may repeat a state row's key).
        self._pending: list[pa.Table] = []
        self._pending_rows = 0
        #: Throttled ``changes``: the windows changed since their last emission, and when changes were last emitted.
        self.emit_interval_ms = query.header.emit_interval_ms if query.header.emit == "changes" and throttle else 0
        self._unsent: pa.Table | None = None
        self._last_changes_ms: int | None = None
        self._windows_per_pane = -(-self.window.size_ms // self.window.slide_ms) if self.plan.panes is not None else 1
        self._session = self.window.kind == "session"
        self._no_late = LATE_KEYS.empty_table()

    # -- SQL helpers --------------------------------------------------------------------------------------------
    def _arrow(self, sql: str, tables: Mapping[str, pa.Table]) -> pa.Table:
        return self._db.arrow(sql, tables)

    def _empty_state(self, batch: pa.Table) -> pa.Table:
        sql = self._partial_sql.replace(WATERMARK_TOKEN, "0")
        return self._arrow(sql, {BATCH: batch.schema.empty_table(), LATE: self._no_late})

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
            # The query's expressions run on each row before anything is counted or kept: a row they fail on fails
            # the batch with no state changed (folding pending partials, which a SESSION's lateness needs, changes
            # no result), so the batch can be processed again without it (analytics.isolation).
            late: list[LateEvent] = []
            late_keys = self._no_late
            if self._may_be_late(batch, watermark):
                late, late_keys = self._late_events(batch, watermark)
            if self.plan.panes is not None:
                partials = self._arrow(self.plan.panes.pane_sql, {BATCH: batch})
                batch_watermark = pa.repeat(pa.scalar(watermark, pa.int64()), partials.num_rows)
                partials = partials.append_column(WM, batch_watermark)
            elif self._session:
                partials = self._arrow(self._partial_sql, {BATCH: batch, LATE: late_keys})
            else:
                partials = self._arrow(self._partial_sql.replace(WATERMARK_TOKEN, str(watermark)), {BATCH: batch})
            outcome.late = late
            self.late_count += len(late)
            if partials.num_rows:
                self._pending.append(partials)
                # Counted as the rows they will be once spread over their windows (a pane's are in several).
                self._pending_rows += partials.num_rows * self._windows_per_pane
                if self.query.header.emit == "changes":
                    touched = self._windows_of(partials, watermark)
            for partition, maximum in partition_maxima(batch, self.window.time_column).items():
                self.watermarks.observe(partition, maximum, now_ms)
        self.watermarks.advance(now_ms, busy)
        if self.emit_interval_ms:
            if touched is not None:
                self._unsent = touched if self._unsent is None else _distinct_windows([self._unsent, touched])
            touched = None
            due = self._last_changes_ms is None or now_ms - self._last_changes_ms >= self.emit_interval_ms
            if self._unsent is not None and due:
                touched, self._unsent, self._last_changes_ms = self._unsent, None, now_ms
        outcome.extend(self._emit(touched))
        return outcome

    def assign(self, partitions: list[int], now_ms: int) -> None:
        """The source partitions read from now on; one that never delivers a record counts as idle after the
        timeout."""
        self.watermarks.assign(partitions, now_ms)

    @property
    def watermark(self) -> int:
        return self.watermarks.watermark

    def check(self, batch: pa.Table) -> None:
        """Run the query's expressions on each row of ``batch`` (its partial aggregation) and raise what they raise;
        changes nothing."""
        if self.plan.panes is not None:
            self._arrow(self.plan.panes.pane_sql, {BATCH: batch})
        elif self._session:
            self._arrow(self._partial_sql, {BATCH: batch, LATE: self._no_late})
        else:
            self._arrow(self._partial_sql.replace(WATERMARK_TOKEN, str(MIN_WATERMARK)), {BATCH: batch})

    def _windows_of(self, partials: pa.Table, watermark: int) -> pa.Table:
        """The distinct windows a batch's partials (per window, or per pane) add to, as (``__ws``, ``__we``)."""
        if PANE not in partials.column_names:
            return _distinct_windows([partials])
        windows = {
            w
            for pane in pc.unique(partials.column(PANE)).to_pylist()
            for w in windows_of(self.window, pane)
            if w[1] + self.lateness_ms > watermark
        }
        starts, ends = zip(*sorted(windows), strict=True) if windows else ((), ())
        return pa.table({WS: pa.array(starts, pa.int64()), WE: pa.array(ends, pa.int64())})

    def _fold(self) -> None:
        """Merge the pending partial aggregates (expanded from panes first, if per pane) into the state."""
        if not self._pending:
            return
        partials = self._pending[0] if len(self._pending) == 1 else pa.concat_tables(self._pending)
        if self.plan.panes is not None:
            partials = self._arrow(self.plan.panes.expand_sql, {PANES: partials})
        self.state = self._arrow(self._merge_sql, {STATE: self.state, PARTIALS: partials})
        self._pending, self._pending_rows = [], 0

    def _earliest_end(self) -> int | None:
        """The earliest window end in the state or the pending partials (of a pane: of its first window)."""
        ends = [pc.min(self.state.column(WE)).as_py()] if self.state is not None and self.state.num_rows else []
        for table in self._pending:
            if PANE in table.column_names:
                ends.append(windows_of(self.window, pc.min(table.column(PANE)).as_py())[0][1])
            else:
                ends.append(pc.min(table.column(WE)).as_py())
        return min(ends) if ends else None

    def tick(self, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        """No records arrived: idle partitions may still let the watermark, and so final emissions, advance."""
        return self.process(pa.table({}), now_ms, busy) if self.state is not None else BatchOutcome()

    def finish(self) -> BatchOutcome:
        """End of input (replay): close every open window."""
        self.watermarks.flush()
        self._unsent = None  # every window closes now, with its final result
        return self._emit(None)

    def _may_be_late(self, batch: pa.Table, watermark: int) -> bool:
        # Every window of an event at t ends after t (a session's at t + gap at the least), so no pair can be closed
        # when that end + lateness > watermark.
        earliest = pc.min(event_time_ms(batch, self.window.time_column)).as_py()
        soonest_end = self.window.size_ms if self._session else 1
        return earliest is not None and earliest + soonest_end + self.lateness_ms <= watermark

    def _late_events(self, batch: pa.Table, watermark: int) -> tuple[list[LateEvent], pa.Table]:
        """A batch's late events, and their (``__partition``, ``__offset``) for a SESSION query's partial step.

        Only rows the query counts (its WHERE keeps them) can be late. A SESSION event is merged with the open
        sessions (and the batch's other events) before its lateness is judged; see ``session_late_sql``."""
        rows = self._arrow(self.plan.rows_sql, {BATCH: batch})
        closed_alone = pc.less_equal(pc.add(rows.column(WE), self.lateness_ms), watermark)
        if not pc.any(closed_alone).as_py():
            return [], self._no_late
        sql = self.plan.late_sql.replace(WATERMARK_TOKEN, str(watermark))
        if self._session:
            self._fold()  # every open session must be in the state to be merged with
            assert self.state is not None  # noqa: S101 - set before the first batch is folded
            keys = [c for c in self.state.column_names if c.startswith(GROUP_PREFIX)]
            late = self._arrow(sql, {ROWS: rows, OPEN: self.state.select([WS, WE, *keys])})
        else:
            late = self._arrow(sql, {ROWS: rows})
        return self._late_of(batch, late), late.select([PARTITION, OFFSET]).cast(LATE_KEYS)

    def _late_of(self, batch: pa.Table, late: pa.Table) -> list[LateEvent]:
        """The :class:`LateEvent` of each row of ``late`` (``__partition``, ``__offset``, ``__et``, the missed
        windows), with the event's fields from ``batch``."""
        watermark = self.watermarks.watermark
        if late.num_rows == 0:
            return []
        events = self._arrow(
            f"SELECT * FROM {BATCH} SEMI JOIN {LATE} USING ({PARTITION}, {OFFSET}) ORDER BY {PARTITION}, {OFFSET}",
            {BATCH: batch, LATE: late.select([PARTITION, OFFSET])},
        )
        found = []
        for info, event in zip(late.to_pylist(), events.to_pylist(), strict=True):
            body = {k: json_value(v) for k, v in event.items() if not k.startswith("__")}
            missed = list(zip(info[MISSED_WS], info[MISSED_WE], strict=True))
            found.append(LateEvent(self.query.name, info[PARTITION], info[OFFSET], info[ET], watermark, missed, body))
        return found

    def _emit(self, touched: pa.Table | None) -> BatchOutcome:
        """Final results of the windows the watermark closed and, when ``touched`` is given, the changed ones."""
        outcome = BatchOutcome()
        watermark = self.watermarks.watermark
        earliest_end = self._earliest_end()
        closes = earliest_end is not None and earliest_end + self.lateness_ms <= watermark
        # The merge reads the whole state: it waits until a result needs it, or until the pending partials are as
        # many rows as the state, so that its cost per batch stays proportional to the batch.
        state_rows = self.state.num_rows if self.state is not None else 0
        if closes or touched is not None or self._pending_rows >= max(_FOLD_AT_LEAST, state_rows):
            self._fold()
        if self.state is None or self.state.num_rows == 0 or not (closes or touched is not None):
            return outcome
        closing_mask = pc.less_equal(pc.add(self.state.column(WE), self.lateness_ms), watermark)
        closing = _distinct_windows([self.state.filter(closing_mask)])
        changed = closing.schema.empty_table()
        if self.query.header.emit == "changes" and touched is not None and touched.num_rows:
            if self.plan.session_touched_sql is not None:
                # A batch's event windows [t, t + gap) were merged into sessions: emit those sessions.
                touched = self._arrow(self.plan.session_touched_sql, {STATE: self.state, TOUCHED: touched})
            changed = touched.filter(pc.greater(pc.add(touched.column(WE), self.lateness_ms), watermark))
        if closing.num_rows or changed.num_rows:
            # One result query for both kinds of window; closing ones come first, as they are older.
            outcome.results = self._results(closing.cast(_WINDOW_KEYS), changed.cast(_WINDOW_KEYS))
        if closing.num_rows:
            self.state = self.state.filter(pc.invert(closing_mask))
        return outcome

    def _results(self, closing: pa.Table, changed: pa.Table) -> list[WindowResult]:
        """The query's output for each window, one emission per window (an empty one when nothing is left)."""
        assert self.state is not None  # noqa: S101 - callers check
        closing = closing.sort_by([(WS, "ascending"), (WE, "ascending")])
        changed = changed.sort_by([(WS, "ascending"), (WE, "ascending")])
        table = self._arrow(self._result_sql, {STATE: self.state, SEL: pa.concat_tables([closing, changed])})
        rows_by_window: dict[tuple[int, int], list[dict[str, Any]]] = {}
        for row in table.to_pylist():
            key = (row.pop(WS), row.pop(WE))
            rows_by_window.setdefault(key, []).append({k: json_value(v) for k, v in row.items()})
        name, watermark = self.query.name, self.watermarks.watermark
        results = []
        for windows, final in ((closing, True), (changed, False)):
            starts, ends = windows.column(WS).to_pylist(), windows.column(WE).to_pylist()
            for ws, we in zip(starts, ends, strict=True):
                rows = rows_by_window.get((ws, we), [])
                results.append(WindowResult(name, ws, we, final, watermark, rows, self.window.kind == "session"))
        return results

    # -- checkpoints ------------------------------------------------------------------------------------------------
    @property
    def open_windows(self) -> int:
        self._fold()
        if self.state is None or self.state.num_rows == 0:
            return 0
        return int(_distinct_windows([self.state]).num_rows)

    def state_size(self) -> tuple[int, int]:
        # Read from the event loop's thread while the worker folds batches: take each reference once (a list copy,
        # a table that is replaced, never mutated) so a concurrent fold cannot change what is summed half-way.
        state, pending = self.state, list(self._pending)
        tables = ([state] if state is not None else []) + pending
        return sum(t.num_rows for t in tables), sum(t.nbytes for t in tables)

    def snapshot(self) -> tuple[dict[str, object], pa.Table | None]:
        """The watermarks, counters, windows with changes not emitted yet, and the merged state. Merges the
        pending partials: call it from the thread that processes the batches."""
        self._fold()
        meta: dict[str, object] = {"watermarks": self.watermarks.snapshot(), "late_count": self.late_count}
        if self._unsent is not None:
            meta["unsent"] = [self._unsent.column(WS).to_pylist(), self._unsent.column(WE).to_pylist()]
        return meta, self.state

    def restore(self, meta: dict[str, object], state: pa.Table | None, now_ms: int) -> None:
        watermarks = meta.get("watermarks", {})
        assert isinstance(watermarks, dict)  # noqa: S101 - written by snapshot()
        self.watermarks.restore(watermarks, now_ms)
        self.late_count = int(str(meta.get("late_count", 0)))
        unsent = meta.get("unsent")
        if isinstance(unsent, list) and len(unsent) == 2:
            self._unsent = pa.table({WS: pa.array(unsent[0], pa.int64()), WE: pa.array(unsent[1], pa.int64())})
        self.state = state
        self._pending, self._pending_rows = [], 0
