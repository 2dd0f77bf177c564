"""The merge stage: per-partition partials in, a query's results out, exact across workers.

:class:`MergeState` is pure (records in, window results out); :class:`MergeStage` reads the partials topic and
produces the results with the engine's own output records.

A window closes when the query's watermark passes its end plus the lateness. The query's watermark is computed
from the partitions' progress records by the engine's own rule (:class:`~analytics.watermarks.WatermarkTracker`):
the least watermark of the partitions that are not idle, the largest when all are, never moving back. Each worker
publishes a partition's partials before the progress that passes them, on one single-partition topic, so when the
query's watermark passes a window every busy partition's final partial of it has been read; an idle partition's
latest open partial holds everything it counted. The window's result is then the query's own result step over the
partials merged by the query's own merge step: the same SQL a single worker runs over the same partial rows.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field

import pyarrow as pa
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

from analytics.compiler import CompiledQuery
from analytics.config import AnalyticsConfig
from analytics.duck import BatchConnection
from analytics.emissions import BatchOutcome, WindowResult, json_value
from analytics.outputs import LatestResults, outcome_records
from analytics.reader import PartitionReader
from analytics.runner import ensure_topics, now_ms
from analytics.scaleout.partials import Partial, Progress, ScaleOutError, decode
from analytics.watermarks import MIN_WATERMARK

log = logging.getLogger(__name__)


@dataclass
class _PartitionProgress:
    watermark: int = MIN_WATERMARK
    idle: bool = False
    through: int = -1


@dataclass
class MergeState:
    """What the merge stage knows: the latest partial per (window, partition) of the open windows, and each source
    partition's progress. ``partitions`` are the source's partitions; one never heard of blocks the watermark, as
    a partition that never delivered a record does on one worker until it is idle (its worker says so)."""

    query: CompiledQuery
    partitions: list[int]
    windows: dict[tuple[int, int], dict[int, Partial]] = field(default_factory=dict)
    progress: dict[int, _PartitionProgress] = field(default_factory=dict)
    watermark: int = MIN_WATERMARK
    #: Partials of windows already closed here: a partition counted an event the query's watermark had passed.
    late_partials: int = 0

    #: The source partitions' end offsets (last stable offsets), as of the last :meth:`set_ends`.
    ends: dict[int, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self._db = BatchConnection()
        self._changed: set[tuple[int, int]] = set()
        self._lateness = self.query.lateness_ms

    def add(self, record: Partial | Progress) -> None:
        if isinstance(record, Progress):
            known = self.progress.setdefault(record.partition, _PartitionProgress())
            known.watermark = max(known.watermark, record.watermark_ms)
            if record.through >= known.through:
                known.idle, known.through = record.idle, record.through
            return
        window = (record.window_start_ms, record.window_end_ms)
        if record.window_end_ms + self._lateness <= self.watermark:
            if record.rows.num_rows:
                self.late_partials += 1
            return
        partials = self.windows.setdefault(window, {})
        held = partials.get(record.partition)
        if held is None or (record.through, record.final) >= (held.through, held.final):
            partials[record.partition] = record
            self._changed.add(window)

    def set_ends(self, ends: dict[int, int]) -> None:
        """The source's end offsets: a partition whose records are not all read is busy, whatever its owner last
        said (an owner that reported it idle and then died cannot take that back)."""
        self.ends = dict(ends)

    def idle(self, partition: int, progress: _PartitionProgress) -> bool:
        return progress.idle and progress.through >= self.ends.get(partition, 0)

    def advance(self) -> int:
        """The query's watermark from the partitions' progress (see the module's docstring)."""
        marks = {p: self.progress.get(p, _PartitionProgress()) for p in self.partitions}
        active = [m.watermark for p, m in marks.items() if not self.idle(p, m)]
        candidate = min(active) if active else max((m.watermark for m in marks.values()), default=MIN_WATERMARK)
        self.watermark = max(self.watermark, candidate)
        return self.watermark

    def emit(self) -> list[WindowResult]:
        """Final results of the windows the watermark closed (they leave), then, with ``emit: changes``, the current
        results of the other windows that received partials since the last call."""
        watermark = self.advance()
        closing = sorted(w for w in self.windows if w[1] + self._lateness <= watermark)
        changed: list[tuple[int, int]] = []
        if self.query.header.emit == "changes":
            changed = sorted(w for w in self._changed if w in self.windows and w not in closing)
        results = self._results(closing, changed)
        for window in closing:
            del self.windows[window]
        self._changed.clear()
        return results

    def _results(self, closing: list[tuple[int, int]], changed: list[tuple[int, int]]) -> list[WindowResult]:
        """The query's result step over the merged partials of these windows, in one statement as one worker runs it
        (a ranking partitioned by ``window_start`` alone spans the windows that share a start)."""
        windows = closing + changed
        tables = [p.rows for w in windows for _, p in sorted(self.windows[w].items()) if p.rows.num_rows]
        rows_by_window: dict[tuple[int, int], list[dict[str, object]]] = {}
        if tables:
            partials = pa.concat_tables(tables, promote_options="permissive")
            merged = self._db.arrow(
                self.query.merge_sql or "", __state=partials.schema.empty_table(), __partials=partials
            )
            starts, ends = zip(*windows, strict=True)
            selected = pa.table({"__ws": pa.array(starts, pa.int64()), "__we": pa.array(ends, pa.int64())})
            for row in self._db.arrow(self.query.result_sql or "", __state=merged, __sel=selected).to_pylist():
                window = (row.pop("__ws"), row.pop("__we"))
                rows_by_window.setdefault(window, []).append({k: json_value(v) for k, v in row.items()})
        name, watermark = self.query.name, self.watermark
        return [WindowResult(name, ws, we, True, watermark, rows_by_window.get((ws, we), [])) for ws, we in closing] + [
            WindowResult(name, ws, we, False, watermark, rows_by_window.get((ws, we), [])) for ws, we in changed
        ]


class MergeStage:
    """Reads a query's partials topic from its beginning (the topic is the stage's state: a restart rebuilds it and
    produces the same results again, under the same keys) and produces its results until stopped."""

    def __init__(
        self,
        query: CompiledQuery,
        bootstrap: str,
        config: AnalyticsConfig,
        topic: str,
        partitions: list[int],
        latest: LatestResults | None = None,
    ) -> None:
        self.query = query
        self.bootstrap = bootstrap
        self.config = config
        self.topic = topic
        self.state = MergeState(query, partitions)
        self.latest = latest
        self.results = 0
        self.records = 0

    async def run(self, stop: asyncio.Event) -> None:
        await ensure_topics(self.bootstrap, [self.topic])
        topics = self.config.output_topics()
        await ensure_topics(self.bootstrap, sorted({topics.results, topics.alerts}))
        reader = PartitionReader(self.bootstrap, self.topic, max_wait_ms=self.config.poll_timeout_ms)
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
        # Only for the source's end offsets (read_committed: its last stable offsets, where the readers stop).
        offsets = AIOKafkaConsumer(bootstrap_servers=self.bootstrap, isolation_level="read_committed")
        source = [TopicPartition(self.query.source.topic, p) for p in self.state.partitions]
        try:
            await reader.start()
            await producer.start()
            await offsets.start()
            reader.assign([0])
            await reader.seek_to([0], "earliest")
            while not stop.is_set():
                fetched = await reader.fetch(self.config.max_batch_records)
                for _, _, values in fetched.parts:
                    for value in values:
                        if value is None:
                            continue
                        try:
                            self.state.add(decode(value))
                        except ScaleOutError as exc:
                            log.warning("query %s: %s; skipped", self.query.name, exc)
                        self.records += 1
                # After the records: an end offset read now covers what their workers had read when they sent them.
                ends = await offsets.end_offsets(source)
                self.state.set_ends({tp.partition: offset for tp, offset in ends.items()})
                results = await asyncio.to_thread(self.state.emit)
                if results:
                    await self._produce(producer, results)
                if not fetched.count:
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), self.config.min_batch_interval_ms / 1000)
        finally:
            await offsets.stop()
            await producer.stop()
            await reader.close()

    async def _produce(self, producer: AIOKafkaProducer, results: list[WindowResult]) -> None:
        self.results += len(results)
        if self.latest is not None:
            self.latest.update(results)
        outcome = BatchOutcome(results=results)
        futures = []
        for topic, key, value in outcome_records(self.query, outcome, self.config.output_topics(), now_ms()):
            futures.append(await producer.send(topic, value=value, key=key))
        await asyncio.gather(*futures)
