"""What a compiled query file is: its header and source, and the plan the engine runs it by.

A query without a window is an :class:`EtlPlan` (one statement over each batch); a windowed one is a
:class:`WindowPlan` (the statements of the incremental engine, see :mod:`analytics.compiler`). The engine's operators,
the scale-out merge and the Flink translation each take the plan they need, so no code reads a statement that the
query's kind does not have.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from analytics.header import Header
from analytics.sources import Source
from analytics.windows import WindowSpec


@dataclass(frozen=True)
class EtlPlan:
    """A stateless query (streaming ETL): the user's statement over ``__batch``, rows out in input order."""

    sql: str


@dataclass(frozen=True)
class PanePlan:
    """A HOP whose WHERE, keys and aggregates do not read the window columns: each event is aggregated once into its
    pane (``pane_sql``, per (pane, keys) partials of ``__batch``), and ``expand_sql`` turns those rows into
    ``partial_sql``'s rows from a table ``__panes`` that adds the batch's watermark as ``__wm``."""

    pane_sql: str
    expand_sql: str


@dataclass(frozen=True)
class WindowPlan:
    """A windowed query as the incremental engine's statements (see :mod:`analytics.compiler`)."""

    window: WindowSpec
    partial_sql: str
    merge_sql: str
    result_sql: str
    #: The query as one batch statement over a table ``events`` (what the engine must agree with).
    batch_sql: str
    #: The batch's (row, window) pairs the query counts (after WHERE) with their keys, as ``__rows``; and which of
    #: them are late, as (``__partition``, ``__offset``, ``__et``, the windows missed): those whose window closed,
    #: or for SESSION (see :func:`analytics.sessions.session_late_sql`) whose session closed once merged with the
    #: open ones (``__open``).
    rows_sql: str
    late_sql: str
    #: HOP only, when the query allows it (see :class:`PanePlan`).
    panes: PanePlan | None = None
    #: SESSION only: the sessions in ``__state`` that a batch's event windows (``__touched``) fell in.
    session_touched_sql: str | None = None


Plan = EtlPlan | WindowPlan


@dataclass(frozen=True)
class CompiledQuery:
    """Everything the engine needs to run one query file."""

    name: str
    path: Path
    header: Header
    source: Source
    plan: Plan
    fingerprint: str
    #: The source's columns the query mentions (what a recording must hold for the query to find anything).
    reads: tuple[str, ...] = ()
    #: The source's columns a decoded batch holds for this query, in declaration order: those it mentions and its
    #: event time, or every one when it reads rows whole (a star, a row as a value, a NATURAL join). Empty means
    #: every column.
    #: Only these are converted from JSON, so only their values can make a record bad for this query.
    decodes: tuple[str, ...] = ()

    @property
    def window(self) -> WindowSpec | None:
        """The query's window; None for a stateless query."""
        return self.plan.window if isinstance(self.plan, WindowPlan) else None

    @property
    def lateness_ms(self) -> int:
        return self.header.lateness_ms

    @property
    def out_of_orderness_ms(self) -> int:
        ooo = self.header.out_of_orderness_ms
        return self.source.out_of_orderness_ms if ooo is None else ooo

    @property
    def idle_timeout_ms(self) -> int:
        idle = self.header.idle_timeout_ms
        return self.source.idle_timeout_ms if idle is None else idle


def window_plan(query: CompiledQuery) -> WindowPlan:
    """``query``'s plan, which must be windowed; a :class:`ValueError` naming the query otherwise."""
    if not isinstance(query.plan, WindowPlan):
        raise ValueError(f"{query.name} is not a windowed query")
    return query.plan
