"""Replay: the live engine driven by a recorded file of events, deterministically.

The file is read in fixed-size micro-batches as one partition; processing time does not exist (the clock is 0),
so no partition ever goes idle, a query's ``emit_interval`` does not apply (changes follow every batch), and the
same file always gives the same output. End of input closes every window
(the watermark jumps to the end of time), so the final results equal a batch query over the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import pyarrow as pa

from analytics.config import OutputTopics
from analytics.decode import Decoder
from analytics.emissions import BatchOutcome
from analytics.isolation import FailureStreak, process_batch
from analytics.outputs import Record, outcome_records
from analytics.plan import CompiledQuery
from analytics.protocol import make_operator

#: How many lines' fields :class:`ReplayStats` describes the file's events by.
_SAMPLED_LINES = 100


@dataclass(frozen=True)
class ReplayStats:
    events: int
    results: int
    late: int
    errors: int
    records: int
    #: Result rows (in window results and alerts) and ETL rows: what the query found.
    rows: int = 0
    #: Per column the query reads, how many decoded events had a value for it.
    present: dict[str, int] = field(default_factory=dict)
    #: The field names of the file's first JSON objects (what its events look like).
    fields: tuple[str, ...] = ()

    def absent(self, query: CompiledQuery) -> list[str]:
        """The columns ``query`` reads, apart from its event time, that no event of the file had."""
        return [c for c in query.reads if c != query.source.event_time and not self.present.get(c)]


def _batches(path: Path, batch_size: int) -> Iterator[tuple[list[int], list[bytes]]]:
    numbers: list[int] = []
    lines: list[bytes] = []
    with open(path, "rb") as handle:
        for number, line in enumerate(handle, start=1):
            stripped = line.strip()
            if not stripped:
                continue
            numbers.append(number)
            lines.append(stripped)
            if len(lines) >= batch_size:
                yield numbers, lines
                numbers, lines = [], []
    if lines:
        yield numbers, lines


def replay_outcomes(
    query: CompiledQuery,
    input_path: Path,
    batch_size: int = 1000,
    topics: OutputTopics | None = None,
    present: dict[str, int] | None = None,
) -> Iterator[tuple[BatchOutcome, list[Record]]]:
    """Per micro-batch, what the query emits and the records it would produce (offsets are line numbers).

    ``present``, when given, is filled with how many decoded events had a value for each column the query reads."""
    topics = topics or OutputTopics()
    operator = make_operator(query, throttle=False)
    decoder = Decoder.for_query(query)
    streak = FailureStreak()

    def count_present(batch: pa.Table) -> None:
        if present is not None:
            for column in query.reads:
                present[column] = present.get(column, 0) + batch.num_rows - batch.column(column).null_count

    next_line = 1
    for numbers, lines in _batches(input_path, batch_size):
        parts = [(0, numbers, lines)]
        outcome = process_batch(decoder, operator, query.name, parts, 0, streak=streak, decoded=count_present)
        next_line = numbers[-1] + 1
        yield outcome, outcome_records(query, outcome, topics, operator.watermark, _offsets(next_line))
    outcome = operator.finish()
    yield outcome, outcome_records(query, outcome, topics, operator.watermark, _offsets(next_line))


def _offsets(next_line: int) -> dict[str, object]:
    # As the live runner's ``source_offsets``: the next offset to read per partition, here the next line number.
    return {"source_offsets": {"0": next_line}}


def replay(query: CompiledQuery, input_path: Path, output_path: Path, batch_size: int = 1000) -> ReplayStats:
    """Run ``query`` over ``input_path`` and write one JSON line per produced record: topic, key and value."""
    counts = {"results": 0, "late": 0, "errors": 0, "records": 0, "rows": 0}
    present: dict[str, int] = {}
    with open(output_path, "wb") as out:
        for outcome, records in replay_outcomes(query, input_path, batch_size, present=present):
            counts["results"] += len(outcome.results)
            counts["rows"] += sum(len(result.rows) for result in outcome.results) + len(outcome.rows)
            counts["late"] += len(outcome.late)
            counts["errors"] += len(outcome.errors)
            counts["records"] += len(records)
            for topic, key, value in records:
                line = {"topic": topic, "key": key.decode() if key else None, "value": orjson.loads(value)}
                out.write(orjson.dumps(line) + b"\n")
    events, fields = 0, set[str]()
    with open(input_path, "rb") as handle:
        for raw in handle:
            if not raw.strip():
                continue
            events += 1
            if events <= _SAMPLED_LINES:
                fields |= _fields(raw)
    return ReplayStats(events=events, present=present, fields=tuple(sorted(fields)), **counts)


def _fields(line: bytes) -> set[str]:
    try:
        document = orjson.loads(line)
    except orjson.JSONDecodeError:
        return set()
    return set(document) if isinstance(document, dict) else set()
