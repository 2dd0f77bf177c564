"""The live engine: each query reads its source topic, runs micro-batches, produces its outputs, checkpoints.

Exactly once, end to end: a checkpoint (open-window state plus next offsets) is written only after every record
the batches before it produced has been acknowledged by Kafka. After a ``kill -9`` the query restarts from its
last checkpoint, so no event is counted twice or missed; the batches after that checkpoint are processed again
and their outputs, keyed by (query, window[, key]), replace the earlier copies.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from aiokafka import AIOKafkaProducer

from analytics.checkpoint import Checkpoint, load_checkpoint, save_checkpoint
from analytics.config import AnalyticsConfig
from analytics.decode import Decoder
from analytics.emissions import BatchOutcome, iso_ms
from analytics.isolation import FailureStreak, process_batch
from analytics.memory import release_free_memory
from analytics.outputs import LatestResults, outcome_records
from analytics.plan import CompiledQuery
from analytics.protocol import make_operator
from analytics.reader import Fetched, PartitionReader, ReaderError
from analytics.topics import describe_source, ensure_topics
from foundation.clock import now_ms

log = logging.getLogger(__name__)


#: Checkpoints are spaced at least this many times the duration of the last one (see ``_checkpoint_every``).
_CHECKPOINT_SHARE = 20.0


@dataclass(frozen=True)
class Batch:
    """One micro-batch as taken from the reader: per partition (partition, offsets, values), the next offset to
    read per partition once it is processed, and the processing time and busy partitions when it was read."""

    parts: list[tuple[int, list[int], list[bytes | None]]]
    next_offsets: dict[int, int]
    clock_ms: int
    busy: set[int]


def _private_dir(path: Path) -> None:
    """Checkpoints hold window state built from stream data: only their owner may read them (0700, tightened if an
    older kemu made the directory 0755)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    path.chmod(0o700)


class QueryRunner:
    """One query on its own reader (all the source's partitions, no consumer group: offsets live in the
    checkpoint), sharing the engine's producer."""

    def __init__(
        self,
        query: CompiledQuery,
        bootstrap: str,
        config: AnalyticsConfig,
        producer: AIOKafkaProducer,
        latest: LatestResults | None = None,
    ) -> None:
        self.query = query
        self.bootstrap = bootstrap
        self.config = config
        self.producer = producer
        self.latest = latest
        self.operator = make_operator(query)
        self.decoder = Decoder.for_query(query, config.max_record_bytes)
        self.streak = FailureStreak()
        self.topics = config.output_topics()
        self.offsets: dict[int, int] = {}
        self.events = 0
        #: Records routed to the errors topic (not usable, or rejected by the query).
        self.errors = 0
        #: Records in the source not read yet, as of the last batch (for the engine's stats).
        self.lag = 0
        self.batches = 0
        #: ``time.monotonic()`` when the reader was assigned and positioned, None before.
        self.consuming_since: float | None = None
        self.checkpoint_path = config.checkpoint_dir / f"{query.name}.ckpt"
        #: How long the last checkpoint took to take and write (seconds).
        self.checkpoint_seconds = 0.0
        #: The source's Kafka cluster, recorded in each checkpoint (see :meth:`_start`).
        self.cluster_id: str | None = None
        # One worker thread per query does its decoding, DuckDB work and checkpoint writing: batches are folded one
        # at a time anyway, and a single thread keeps one malloc arena and one set of DuckDB thread caches warm
        # instead of spreading them over a pool.
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"query-{query.name}")
        #: The consumer-group commit of the last checkpoint's offsets, while it runs (see :meth:`_flush`).
        self._committing: asyncio.Task[None] | None = None
        #: The offsets of the last checkpoint written, and the last ones committed to the consumer group.
        self._checkpointed: dict[int, int] | None = None
        self._committed: dict[int, int] | None = None
        #: The batch being computed on the worker thread, not emitted yet (see :meth:`run`).
        self._in_flight: tuple[Batch, asyncio.Future[BatchOutcome]] | None = None
        #: Sends of outputs not yet known to be acknowledged: the next checkpoint waits for them.
        self._pending: list[asyncio.Future[object]] = []

    async def _start(self, reader: PartitionReader, stop: asyncio.Event) -> bool:
        """Assign the partitions and seek; False when stopped before the source topic existed."""
        topic = self.query.source.topic
        partitions, self.cluster_id = await describe_source(self.bootstrap, topic, stop, self.query.name)
        if not partitions:
            return False
        checkpoint = load_checkpoint(self.checkpoint_path, self.query.name, self.query.fingerprint)
        if checkpoint is not None and checkpoint.cluster_id not in (None, self.cluster_id):
            # Offsets of another cluster (the embedded one purged and formatted anew, another bootstrap address)
            # point at other data: resuming from them would skip or repeat records. The query starts over instead.
            log.warning(
                "query %s: checkpoint %s is of Kafka cluster %s, not %s; ignored, the query starts over",
                self.query.name,
                self.checkpoint_path,
                checkpoint.cluster_id,
                self.cluster_id,
            )
            checkpoint = None
        if checkpoint is not None:
            self.operator.restore(checkpoint.operator, checkpoint.state, now_ms())
            self.offsets = dict(checkpoint.offsets)
            log.info("query %s resumes from checkpoint offsets %s", self.query.name, self.offsets)
        self.operator.assign(partitions, now_ms())
        await reader.resume(partitions, self.offsets, self.config.start_from)
        return True

    async def _checkpoint(self) -> None:
        # The snapshot is taken between batches, with none in flight, on the query's worker thread (it may merge
        # partial aggregates); serialising and fsyncing it happen there too, off the event loop.
        offsets = dict(self.offsets)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(self._worker, self._snapshot_and_save, offsets)

    def _snapshot_and_save(self, offsets: dict[int, int]) -> None:
        started = time.monotonic()
        meta, state = self.operator.snapshot()
        self._save(Checkpoint(self.query.name, self.query.fingerprint, offsets, meta, state, self.cluster_id))
        self.checkpoint_seconds = time.monotonic() - started

    def _checkpoint_every(self) -> float:
        """Seconds between checkpoints: the configured interval, stretched so that writing checkpoints takes at most
        a twentieth of the query's time. A large state (a rolling board holds each key in 60 windows) costs a
        merge and tens of MB per checkpoint: once a second, in a profile of the demo at 20,000 events/s, writing the
        rolling board's checkpoints took about a tenth of the engine's samples."""
        return max(self.config.checkpoint_interval_s, _CHECKPOINT_SHARE * self.checkpoint_seconds)

    def _save(self, checkpoint: Checkpoint) -> None:
        save_checkpoint(self.checkpoint_path, checkpoint)
        release_free_memory()

    async def run(self, stop: asyncio.Event) -> None:
        """Process until ``stop`` is set, then flush the outputs and write a last checkpoint.

        Pipelined one batch deep: while a worker thread decodes and folds batch N (Arrow's JSON reader and DuckDB
        release the GIL), the event loop fetches batch N+1. Batches are still folded, and their outputs produced,
        strictly in order (:meth:`_emit`), and a checkpoint is taken only between batches, with nothing in flight,
        so the state and offsets it holds are those of the same processed batch.
        """
        reader = PartitionReader(self.bootstrap, self.query.source.topic, max_wait_ms=self.config.poll_timeout_ms)
        await reader.start()
        fetch: asyncio.Future[Fetched] | None = None
        last_checkpoint, checkpointed_events = time.monotonic(), -1
        try:
            if not await self._start(reader, stop):
                return  # nothing was read, so the checkpoint (if any) stays as it is
            self.consuming_since = time.monotonic()
            behind, fetched_at = False, 0.0
            while not stop.is_set():
                resume_at = fetched_at + self.config.min_batch_interval_ms / 1000
                if resume_at > time.monotonic() and not behind:
                    # Live: the batch in flight is emitted as soon as it is computed, then the query pauses until
                    # the interval is up (emitting after the pause would add it to every result's freshness).
                    await self._emit()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(stop.wait(), resume_at - time.monotonic())
                    if stop.is_set():
                        break
                fetched_at = time.monotonic()
                fetch = asyncio.ensure_future(reader.fetch(self.config.max_batch_records))
                await self._emit()
                fetched = await fetch
                fetch = None
                busy, self.lag = reader.backlog()
                batch = Batch(fetched.parts, fetched.next_offsets, now_ms(), busy)
                # Records left to read (a fetch is capped in bytes and records): catching up, so no pause.
                behind = bool(batch.busy)
                # A query that read nothing and emitted nothing since its last checkpoint has nothing new to save (the
                # first checkpoint is always written: it tells that the query is up).
                idle = self.events == checkpointed_events and not self._pending
                if time.monotonic() - last_checkpoint >= self._checkpoint_every() and not idle:
                    await self._flush(reader)
                    last_checkpoint, checkpointed_events = time.monotonic(), self.events
                computing = asyncio.get_running_loop().run_in_executor(self._worker, self._compute, batch)
                self._in_flight = (batch, computing)
            await self._emit()
            await self._flush(reader)
        finally:
            if fetch is not None:
                fetch.cancel()
                with contextlib.suppress(asyncio.CancelledError, Exception):
                    await fetch
            if self._in_flight is not None:
                # The worker thread cannot be interrupted; let it end before the reader and operator go away.
                with contextlib.suppress(Exception):
                    await asyncio.shield(self._in_flight[1])
            if self.config.progress_group_prefix:
                # The last checkpoint's offsets, committed before the reader's connections close (a commit of older
                # ones may still run: it goes first). Bounded: this is for tooling.
                with contextlib.suppress(TimeoutError, asyncio.CancelledError):
                    await asyncio.wait_for(self._commit_last(reader), 10.0)
            await reader.close()
            self._worker.shutdown(wait=False)

    async def _flush(self, reader: PartitionReader) -> None:
        # Outputs first, then the checkpoint that says they were produced, then (for tooling only) the same offsets
        # as the query's consumer group: a failed commit loses nothing, the next checkpoint commits again.
        pending, self._pending = self._pending, []
        if pending:
            await asyncio.gather(*pending)
        await self._checkpoint()
        if self.config.progress_group_prefix and (self._committing is None or self._committing.done()):
            # In the background, one at a time: finding the group coordinator can take seconds (while Kafka creates
            # its offsets topic), and the query must not wait on its tooling. A commit still running is not queued
            # behind: the next checkpoint's offsets supersede these.
            self._committing = asyncio.create_task(self._commit_progress(reader, dict(self.offsets)))
        self._checkpointed = dict(self.offsets)

    async def _commit_progress(self, reader: PartitionReader, offsets: dict[int, int]) -> None:
        group = f"{self.config.progress_group_prefix}{self.query.name}"
        try:
            await reader.commit(group, offsets)
        except ReaderError as exc:
            log.warning("query %s: %s (progress for tooling only; the checkpoint is written)", self.query.name, exc)
        else:
            self._committed = offsets

    async def _commit_last(self, reader: PartitionReader) -> None:
        if self._committing is not None:
            await self._committing
        if self._checkpointed is not None and self._committed != self._checkpointed:
            await self._commit_progress(reader, self._checkpointed)

    async def _emit(self) -> None:
        """The one way a batch's outputs leave: once the batch in flight is computed, account it and send its
        outputs (their acknowledgements join :attr:`_pending`). Nothing when no batch is in flight."""
        if self._in_flight is None:
            return
        batch, computing = self._in_flight
        outcome = await computing
        self.offsets.update(batch.next_offsets)
        self.events += sum(len(offsets) for _, offsets, _ in batch.parts)
        self.errors += len(outcome.errors)
        self.batches += 1 if batch.parts else 0
        if self.latest is not None and outcome.results:
            self.latest.update(outcome.results)
        # read_at: when the batch was read, so that a result tells the engine's own share of its freshness
        # (emitted_at - read_at) from the time its events took to reach the engine.
        extra = {
            "source_offsets": {str(p): o for p, o in sorted(self.offsets.items())},
            "read_at": iso_ms(batch.clock_ms),
        }
        for topic, key, value in outcome_records(self.query, outcome, self.topics, now_ms(), extra):
            self._pending.append(await self.producer.send(topic, value=value, key=key))
        self._in_flight = None

    def _compute(self, batch: Batch) -> BatchOutcome:
        query = self.query.name
        return process_batch(self.decoder, self.operator, query, batch.parts, batch.clock_ms, batch.busy, self.streak)


class AnalyticsEngine:
    """Runs queries live against a Kafka cluster until stopped."""

    def __init__(
        self,
        queries: Sequence[CompiledQuery],
        bootstrap: str,
        config: AnalyticsConfig,
        latest: LatestResults | None = None,
    ) -> None:
        self.queries = list(queries)
        self.bootstrap = bootstrap
        self.config = config
        self.latest = latest  # the latest windows in process, kept only for a caller that passes one
        self.runners: list[QueryRunner] = []

    def output_topic_names(self) -> list[str]:
        topics = self.config.output_topics()
        names = {topics.results, topics.alerts, topics.late, topics.errors}
        names |= {q.header.output_topic for q in self.queries if q.header.output_topic}
        return sorted(names)

    async def run(self, stop: asyncio.Event) -> None:
        """Run every query until ``stop`` is set."""
        # Everything alive now (modules, compiled queries, clients) lives as long as the process: frozen, it is no
        # longer traversed by each full collection, which the many short-lived record values trigger often
        # (a third of the consuming time otherwise).
        gc.freeze()
        await ensure_topics(self.bootstrap, self.output_topic_names())
        await asyncio.to_thread(_private_dir, Path(self.config.checkpoint_dir))
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, acks="all", enable_idempotence=True, linger_ms=5)
        try:
            await producer.start()
            self.runners = [QueryRunner(q, self.bootstrap, self.config, producer, self.latest) for q in self.queries]
            tasks = [asyncio.create_task(r.run(stop), name=f"query-{r.query.name}") for r in self.runners]
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_EXCEPTION)
            for task in done:
                if task.exception() is not None:
                    stop.set()
            await asyncio.gather(*tasks)
        finally:
            await producer.stop()
