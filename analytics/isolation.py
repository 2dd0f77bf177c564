"""A micro-batch through decoding and its query, with the records the query itself fails on isolated and routed.

Decoding routes the records that are not usable events (:mod:`analytics.decode`). A usable event can still make a
query's own SQL fail: a ``CAST`` of a field that does not hold a number, an arithmetic overflow, a timestamp pushed
past year 9999. Unhandled, that error stops the query, and as the batch is read again after the restart, stops it
on every restart. So when processing a batch fails with an error about the data, the batch is split until the rows
that fail on their own are found; they go to the errors topic with the query's message, and the batch is processed
without them. Only the failure path pays for this: a batch that processes is processed once, as before.

An operator's ``check(batch)`` runs the statements that evaluate the query on each row and raises what they raise,
changing nothing; ``process`` fails in those statements before it changes any state, so it can run again. A
failure that no single row explains (an aggregate that overflows only in total) stops the query with
:class:`~analytics.exceptions.QueryFailed`, which says so; so does a query that fails on every record it is given
(more than :data:`MAX_ISOLATED` in a row), which is a fault of the query, not of its data, however small its
batches are.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from analytics.columns import OFFSET, PARTITION
from analytics.decode import Decoder, raw_text
from analytics.emissions import BadRecord, BatchOutcome, LateEvent
from analytics.exceptions import QueryFailed
from analytics.protocol import Operator

#: Errors a query raises because of the values it is given. Anything else (a bug, memory, I/O) is not a record's
#: fault and is not isolated. ``ValueError`` covers Arrow's conversion errors and ``UnicodeError``.
ROW_ERRORS: tuple[type[Exception], ...] = (
    duckdb.DataError,
    duckdb.InvalidInputException,
    OverflowError,
    ValueError,
)

#: Rows a batch may lose to isolation, and records in a row a query may fail on: beyond it the query fails on most
#: records, and the query is at fault.
MAX_ISOLATED = 100

#: (partition, offsets, values) of one source partition in a micro-batch.
Part = tuple[int, Sequence[int], Sequence[bytes | None]]


@dataclass
class FailureStreak:
    """How many records in a row a query has failed on, across batches (reset by any record it processes)."""

    count: int = 0

    def add(self, query: str, failed: int, processed: int) -> None:
        self.count = failed if processed else self.count + failed
        if self.count > MAX_ISOLATED:
            raise QueryFailed(
                f"query {query} failed on the last {self.count} records it was given and processed none of them; "
                "the query, not the data, needs a fix"
            )


def process_batch(
    decoder: Decoder,
    operator: Operator,
    query: str,
    parts: Sequence[Part],
    now_ms: int,
    busy: Collection[int] = (),
    streak: FailureStreak | None = None,
    decoded: Callable[[pa.Table], None] | None = None,
) -> BatchOutcome:
    """Decode ``parts`` and fold them into ``operator``; every record that cannot be used is in the outcome's
    errors, with its reason, ahead of what the operator itself reports. ``streak`` carries the records the query
    failed on from one batch to the next; ``decoded``, when given, is shown the decoded batch first."""
    streak = streak if streak is not None else FailureStreak()
    tables: list[pa.Table] = []
    errors: list[BadRecord] = []
    for partition, offsets, values in parts:
        table, bad = decoder.decode(partition, offsets, values)
        tables.append(table)
        errors += bad
    if not tables:
        outcome = operator.tick(now_ms, busy)
    else:
        batch = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
        if decoded is not None:
            decoded(batch)
        try:
            outcome = operator.process(batch, now_ms, busy)
            failed = 0
        except ROW_ERRORS as exc:
            failing = isolate(operator, batch, query, exc)
            failed = len(failing)
            streak.add(query, failed, batch.num_rows - failed)
            errors += _routed(query, batch, failing, parts)
            keep = pc.invert(pc.is_in(pa.array(range(batch.num_rows), pa.int64()), pa.array(list(failing))))
            outcome = operator.process(batch.filter(keep), now_ms, busy)
        if not failed and batch.num_rows:
            streak.count = 0
    outcome.errors = errors + outcome.errors
    if outcome.late:
        outcome.late = _whole_late_events(decoder, outcome.late, parts)
    return outcome


def _whole_late_events(decoder: Decoder, late: list[LateEvent], parts: Sequence[Part]) -> list[LateEvent]:
    """``late`` with each event's every declared field: the operator saw only the columns its query reads, and a late
    event's record is for the people who look into it (its ``event_id``, say), not for the query."""
    raw = {(p, o): v for p, offsets, values in parts for o, v in zip(offsets, values, strict=True)}
    whole = decoder.whole_events([(e.partition, e.offset, raw.get((e.partition, e.offset))) for e in late])
    return [replace(e, event=whole.get((e.partition, e.offset), e.event)) for e in late]


def isolate(operator: Operator, batch: pa.Table, query: str, cause: Exception) -> dict[int, str]:
    """The rows of ``batch`` the query fails on by themselves, with the message of each failure.

    Halves that pass are cleared in one check; halves that fail are split again, so a few bad rows cost a few checks
    per halving. Raises :class:`QueryFailed` when no row fails alone or when too many do."""
    failing: dict[int, str] = {}

    def visit(start: int, length: int) -> None:
        if len(failing) > MAX_ISOLATED:
            return
        try:
            operator.check(batch.slice(start, length))
            return
        except ROW_ERRORS as exc:
            if length == 1:
                failing[start] = _first_line(exc)
                return
        half = length // 2
        visit(start, half)
        visit(start + half, length - half)

    visit(0, batch.num_rows)
    if not failing:
        raise QueryFailed(
            f"query {query} failed on a batch of {batch.num_rows} records, and on none of them alone: "
            f"{_first_line(cause)}"
        ) from cause
    if len(failing) > MAX_ISOLATED:
        raise QueryFailed(
            f"query {query} fails on most records (more than {MAX_ISOLATED} in one batch); the query, not the data, "
            f"needs a fix: {_first_line(cause)}"
        ) from cause
    return failing


def _routed(query: str, batch: pa.Table, failing: dict[int, str], parts: Sequence[Part]) -> list[BadRecord]:
    raw = {(p, o): v for p, offsets, values in parts for o, v in zip(offsets, values, strict=True)}
    partitions = batch.column(PARTITION)
    offsets = batch.column(OFFSET)
    routed = []
    for row, message in sorted(failing.items()):
        partition, offset = partitions[row].as_py(), offsets[row].as_py()
        reason = f"query failed on this record: {message}"
        routed.append(BadRecord(query, partition, offset, reason, raw_text(raw.get((partition, offset)))))
    return routed


def _first_line(exc: BaseException) -> str:
    text = str(exc)
    return text.splitlines()[0] if text else type(exc).__name__
