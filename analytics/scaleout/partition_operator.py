"""A window operator over one source partition that hands out partial aggregates instead of results.

It is the engine's :class:`~analytics.operator.WindowOperator` (same SQL, same state, same late-event rule), with
its watermark of the one partition. Where the engine would compute a window's result, this operator keeps the
partition's partial rows for the merge stage: the rows of windows its watermark closed (final, and they leave the
state) and the current rows of open windows that changed since they were last handed out. The merge stage needs
the open ones too: when this partition is idle, the query's watermark may pass a window this partition still holds
open, and the window's result must include what the partition counted.
"""

from __future__ import annotations

from collections.abc import Collection

import pyarrow as pa
import pyarrow.compute as pc

from analytics.columns import SEL, STATE, WE, WS
from analytics.emissions import BatchOutcome
from analytics.operator import WindowOperator, _distinct_windows
from analytics.plan import CompiledQuery

#: One window's rows: (window_start_ms, window_end_ms, final, rows).
WindowRows = tuple[int, int, bool, pa.Table]


class PartitionOperator(WindowOperator):
    """Runs one windowed query over one source partition's records; never emits results."""

    def __init__(self, query: CompiledQuery) -> None:
        super().__init__(query, throttle=False)
        self._closed: list[pa.Table] = []
        self._dirty: pa.Table | None = None
        self._seen_pending = 0
        self._watermark_before = self.watermarks.watermark

    def process(self, batch: pa.Table, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        self._seen_pending = len(self._pending)
        self._watermark_before = self.watermarks.watermark
        return super().process(batch, now_ms, busy)

    def _emit(self, touched: pa.Table | None) -> BatchOutcome:
        """Collect the windows the batch changed and the partials of the windows the watermark closed."""
        added = self._pending[self._seen_pending :]
        self._seen_pending = len(self._pending)
        if added:
            changed = _distinct_windows([self._windows_of(table, self._watermark_before) for table in added])
            self._dirty = changed if self._dirty is None else _distinct_windows([self._dirty, changed])
        watermark = self.watermarks.watermark
        earliest_end = self._earliest_end()
        if earliest_end is None or earliest_end + self.lateness_ms > watermark:
            return BatchOutcome()
        self._fold()
        self._seen_pending = 0
        assert self.state is not None  # noqa: S101 - an earliest end comes from the state or pending partials
        closing = pc.less_equal(pc.add(self.state.column(WE), self.lateness_ms), watermark)
        self._closed.append(self.state.filter(closing))
        self.state = self.state.filter(pc.invert(closing))
        return BatchOutcome()

    def take(self) -> list[WindowRows]:
        """The rows to hand to the merge stage since the last call: closed windows (final) first, then the open
        windows that changed. Merges pending partials: call it from the thread that processes the batches."""
        self._fold()
        self._seen_pending = 0
        taken: list[WindowRows] = []
        closed = [t for t in self._closed if t.num_rows]
        if closed:
            taken += _per_window(pa.concat_tables(closed), final=True)
        if self._dirty is not None and self.state is not None and self.state.num_rows:
            open_rows = self._arrow(
                f"SELECT * FROM {STATE} SEMI JOIN {SEL} USING ({WS}, {WE})", {STATE: self.state, SEL: self._dirty}
            )
            taken += _per_window(open_rows, final=False)
        self._closed, self._dirty = [], None
        return taken


def _per_window(rows: pa.Table, final: bool) -> list[WindowRows]:
    windows = _distinct_windows([rows]).sort_by([(WS, "ascending"), (WE, "ascending")]).to_pylist()
    out = []
    for window in windows:
        mask = pc.and_(pc.equal(rows.column(WS), window[WS]), pc.equal(rows.column(WE), window[WE]))
        out.append((int(window[WS]), int(window[WE]), final, rows.filter(mask)))
    return out
