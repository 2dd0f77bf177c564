"""From a batch's outcome to the Kafka records it produces, and the in-process store of latest results."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

from analytics.config import OutputTopics
from analytics.emissions import (
    BatchOutcome,
    WindowResult,
    alert_records,
    error_record,
    late_record,
    result_record,
    row_record,
)
from analytics.plan import CompiledQuery

#: (topic, key, value) of one record to produce.
Record = tuple[str, bytes | None, bytes]


def outcome_records(
    query: CompiledQuery,
    outcome: BatchOutcome,
    topics: OutputTopics,
    emitted_at_ms: int,
    extra: dict[str, Any] | None = None,
) -> list[Record]:
    """The records of one batch, in order: results or alerts or ETL rows, then late events, then errors.

    ``extra`` adds fields to result records (the live runner adds the source offsets they include).
    """
    records: list[Record] = []
    output = query.header.output
    for result in outcome.results:
        if output == "alerts":
            if result.final or query.header.emit == "changes":
                records += [(topics.alerts, k, v) for k, v in alert_records(result, emitted_at_ms)]
        elif output == "topic" and query.header.output_topic:
            for row in result.rows:
                records.append((query.header.output_topic, *row_record(row)))
        else:
            records.append((topics.results, *result_record(result, emitted_at_ms, extra)))
    if query.header.output_topic and output == "topic":
        records += [(query.header.output_topic, *row_record(row)) for row in outcome.rows]
    records += [(topics.late, *late_record(late)) for late in outcome.late]
    records += [(topics.errors, *error_record(bad)) for bad in outcome.errors]
    return records


class LatestResults:
    """The latest emission per (query, window), with an async stream of changes for in-process readers."""

    def __init__(self, keep_windows: int = 100) -> None:
        self._latest: dict[str, dict[int, WindowResult]] = {}
        self._keep = keep_windows
        self._subscribers: set[asyncio.Queue[WindowResult]] = set()

    def update(self, results: list[WindowResult]) -> None:
        for result in results:
            windows = self._latest.setdefault(result.query, {})
            windows[result.window_start_ms] = result
            while len(windows) > self._keep:
                del windows[min(windows)]
            for queue in self._subscribers:
                if queue.full():
                    queue.get_nowait()  # a slow reader loses the oldest update, never blocks the engine
                queue.put_nowait(result)

    def latest(self, query: str) -> list[WindowResult]:
        """Results of ``query``, newest window first."""
        windows = self._latest.get(query, {})
        return [windows[start] for start in sorted(windows, reverse=True)]

    def queries(self) -> list[str]:
        return sorted(self._latest)

    async def subscribe(self, maxsize: int = 1000) -> AsyncIterator[WindowResult]:
        """Every update from now on, until the caller stops iterating."""
        queue: asyncio.Queue[WindowResult] = asyncio.Queue(maxsize)
        self._subscribers.add(queue)
        try:
            while True:
                yield await queue.get()
        finally:
            self._subscribers.discard(queue)
