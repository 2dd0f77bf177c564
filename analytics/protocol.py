"""The Operator protocol: what the live runner, replay, read isolation and the emulator's figures need of the object
that runs one query, and the one place that picks it for a compiled query.

Two operators have it: :class:`~analytics.operator.WindowOperator` (a :class:`~analytics.plan.WindowPlan`) and
:class:`~analytics.etl.EtlOperator` (an :class:`~analytics.plan.EtlPlan`). Callers use the protocol alone, so a
third kind of plan needs an operator and a line in :func:`make_operator`, not a change in every caller.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol

import pyarrow as pa

from analytics.emissions import BatchOutcome
from analytics.etl import EtlOperator
from analytics.operator import WindowOperator
from analytics.plan import CompiledQuery, EtlPlan, WindowPlan


class Operator(Protocol):
    """Runs one query's plan over decoded batches (source columns plus ``__partition``/``__offset``)."""

    #: Events that arrived after their windows closed (routed to the late topic); 0 for a stateless query.
    late_count: int

    def process(self, batch: pa.Table, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        """Fold one batch in and return what it emits; ``busy`` names partitions with unread records."""
        ...

    def tick(self, now_ms: int, busy: Collection[int] = ()) -> BatchOutcome:
        """No records arrived: what the passing processing time emits (idle partitions may close windows)."""
        ...

    def check(self, batch: pa.Table) -> None:
        """Run the query's expressions on each row of ``batch`` and raise what they raise; changes nothing."""
        ...

    def finish(self) -> BatchOutcome:
        """End of input (replay): what closing every open window emits."""
        ...

    def assign(self, partitions: list[int], now_ms: int) -> None:
        """The source partitions read from now on (one that never delivers a record counts as idle in time)."""
        ...

    @property
    def watermark(self) -> int:
        """The query's event-time watermark (epoch ms); 0 for a stateless query, which has none."""
        ...

    def state_size(self) -> tuple[int, int]:
        """The rows and bytes of state held now, merged or pending (0, 0 for a stateless query). Safe to call from
        another thread than the one processing batches: it reads, never merges."""
        ...

    def snapshot(self) -> tuple[dict[str, object], pa.Table | None]:
        """What a checkpoint keeps of the operator: its metadata and its state table (None when it has none)."""
        ...

    def restore(self, meta: dict[str, object], state: pa.Table | None, now_ms: int) -> None:
        """Take back what :meth:`snapshot` gave."""
        ...


def make_operator(query: CompiledQuery, throttle: bool = True) -> Operator:
    """The operator running ``query``; ``throttle=False`` emits changes after every batch whatever the query's
    ``emit_interval`` (replays, whose processing time stands still)."""
    match query.plan:
        case WindowPlan():
            return WindowOperator(query, throttle)
        case EtlPlan():
            return EtlOperator(query)
