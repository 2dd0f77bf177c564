"""Replay: the live engine driven by a recorded file of events, deterministically.

The file is read in fixed-size micro-batches as one partition; processing time does not exist (the clock is 0),
so no partition ever goes idle, a query's ``emit_interval`` does not apply (changes follow every batch), and the
same file always gives the same output. End of input closes every window
(the watermark jumps to the end of time), so the final results equal a batch query over the same events.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import orjson

from analytics.catalog import make_operator
from analytics.compiler import CompiledQuery
from analytics.config import OutputTopics
from analytics.decode import Decoder
from analytics.emissions import BatchOutcome
from analytics.isolation import FailureStreak, process_batch
from analytics.outputs import Record, outcome_records


@dataclass(frozen=True)
class ReplayStats:
    events: int
    results: int
    late: int
    errors: int
    records: int


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
    query: CompiledQuery, input_path: Path, batch_size: int = 1000, topics: OutputTopics | None = None
) -> Iterator[tuple[BatchOutcome, list[Record]]]:
    """Per micro-batch, what the query emits and the records it would produce (offsets are line numbers)."""
    topics = topics or OutputTopics()
    operator = make_operator(query, throttle=False)
    decoder = Decoder.for_query(query)
    streak = FailureStreak()
    for numbers, lines in _batches(input_path, batch_size):
        outcome = process_batch(decoder, operator, query.name, [(0, numbers, lines)], 0, streak=streak)
        yield outcome, outcome_records(query, outcome, topics, _clock(operator))
    outcome = operator.finish()
    yield outcome, outcome_records(query, outcome, topics, _clock(operator))


def _clock(operator: object) -> int:
    # Replays stamp emissions with the watermark, not the wall clock, so their output is reproducible.
    watermarks = getattr(operator, "watermarks", None)
    return int(watermarks.watermark) if watermarks is not None else 0


def replay(query: CompiledQuery, input_path: Path, output_path: Path, batch_size: int = 1000) -> ReplayStats:
    """Run ``query`` over ``input_path`` and write one JSON line per produced record: topic, key and value."""
    counts = {"results": 0, "late": 0, "errors": 0, "records": 0}
    with open(output_path, "wb") as out:
        for outcome, records in replay_outcomes(query, input_path, batch_size):
            counts["results"] += len(outcome.results)
            counts["late"] += len(outcome.late)
            counts["errors"] += len(outcome.errors)
            counts["records"] += len(records)
            for topic, key, value in records:
                line = {"topic": topic, "key": key.decode() if key else None, "value": orjson.loads(value)}
                out.write(orjson.dumps(line) + b"\n")
    with open(input_path, "rb") as handle:
        events = sum(1 for line in handle if line.strip())
    return ReplayStats(events=events, **counts)
