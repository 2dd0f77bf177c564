"""The write worker process: ``python -m sinks.worker_main``, spawned by :class:`sinks.worker.WriteWorker`.

It reads an :class:`~sinks.worker.Init`, then one :class:`~sinks.worker.WriteJob` at a time from stdin, and for
each converts the partitions in order (the schema registry grows deterministically), uploads every object while
the next partition converts, saves the registry if it grew, and only then answers with a
:class:`~sinks.worker.WriteResult`. It exits at the end of its input, which is also what it sees when the parent
dies: an orphan never goes on writing.

A job marked for screening is first converted in announced probes of a few records (:mod:`sinks.isolation`), so
that the parent learns which record kills the process; a conversion that raises is screened the same way here,
without dying, and the records that raise alone go to the errors.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import sys
import threading
from array import array
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import pyarrow as pa

from sinks.buffering import PackedBuffer, PackedRecords
from sinks.exceptions import DestinationError
from sinks.isolation import SCREEN_GROUP
from sinks.naming import STREAM_VERSION
from sinks.objects import PendingObject, partition_objects
from sinks.prefixes import KeyLayout
from sinks.s3 import S3Destination, make_s3_client
from sinks.schema import SchemaRegistry
from sinks.worker import (
    Converted,
    Failed,
    Go,
    Init,
    Ready,
    Screened,
    Screening,
    Status,
    WriteJob,
    WriteResult,
    frame,
    read_frame,
    read_job_blocks,
)

log = logging.getLogger("sinks.worker")

STATE_PREFIX = "_kemu/sinks/"


def schema_key(stream: str) -> str:
    """Where an inferred stream keeps its schema registry."""
    return f"{STATE_PREFIX}{stream}/schema.json"


def static_root(prefix: str) -> str:
    """The literal start of a prefix, before any expression: where this stream's objects can be."""
    return prefix.split("!{", 1)[0]


@dataclass
class _Encoded:
    objects: list[PendingObject]
    failed: int
    #: The registry as it stood after this job's conversion, when it grew: saved before the job's result is sent.
    registry: bytes | None


class Worker:
    """Converts and uploads the writes of one delivery stream.

    Jobs are converted strictly one after another in one thread, in the order they arrive: the registry then grows
    exactly as in a replay, which converts the same jobs in the same order. Uploads wait for the job's ``Go``.
    """

    def __init__(self, init: Init, out: IO[bytes]) -> None:
        self.config = init.config
        self.layout = KeyLayout.from_prefixes(self.config.prefix, self.config.error_output_prefix)
        self.registry = SchemaRegistry(dict(self.config.schema_fields), declared=bool(self.config.schema_fields))
        if not self.config.bucket:  # pragma: no cover - DeliveryStream checks first
            raise DestinationError(f"delivery stream {self.config.name!r} has no bucket")
        self.dest = S3Destination(make_s3_client(init.s3), self.config.bucket)
        self._out = out
        # Screening announcements are sent from the conversion thread, the rest from the event loop.
        self._out_lock = threading.Lock()
        self._status = Status(0, False)
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode")
        self._to_encode: asyncio.Queue[WriteJob] = asyncio.Queue()
        self._encoded: dict[int, asyncio.Future[_Encoded]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, message: object) -> None:
        data = frame(message)
        with self._out_lock:
            self._out.write(data)
            self._out.flush()

    async def prepare(self) -> None:
        """Load the saved registry (inferred streams) and abort this stream's incomplete multipart uploads."""
        cfg = self.config
        if not self.registry.declared:
            saved = await self.dest.get(schema_key(cfg.name))
            if saved is not None:
                self.registry = SchemaRegistry.from_json(saved)
        for root in {static_root(cfg.prefix), static_root(cfg.error_output_prefix or "")}:
            aborted = await self.dest.abort_incomplete_uploads(root, f"/{cfg.name}-{STREAM_VERSION}-")
            if aborted:
                log.info("aborted %d incomplete multipart uploads under %r", aborted, root)

    def start_reporting(self) -> None:
        """Send a :class:`Status` whenever it changes, from now on: S3 may already be away while the worker
        prepares, and the parent shows that as "waiting for S3"."""
        self._spawn(self._report_status())

    async def serve(self, inbox: queue.Queue[Any]) -> None:
        self._spawn(self._encode_loop())
        while True:
            message = await asyncio.to_thread(inbox.get)
            if isinstance(message, WriteJob):
                self._encoded[message.job] = asyncio.get_running_loop().create_future()
                self._to_encode.put_nowait(message)
            elif isinstance(message, Go):
                self._spawn(self._upload(message.job))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _encode_loop(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            job = await self._to_encode.get()
            future = self._encoded[job.job]
            try:
                encoded = await loop.run_in_executor(self._encoder, self.convert, job)
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(encoded)
            self.send(Converted(job.job))

    def convert(self, job: WriteJob) -> _Encoded:
        """Convert ``job``, then drop its raw records, which the input thread and the message loop may still
        reference: while its objects wait for the upload, a write holds only its Parquet bytes here."""
        try:
            return self._encode(job)
        finally:
            for buffer in job.buffers:
                buffer.release()

    def _encode(self, job: WriteJob) -> _Encoded:
        quarantine = dict(job.quarantine)
        if job.screen:
            self._screen(job, quarantine, announce=True)
        fields, dirty = dict(self.registry.fields), self.registry.dirty
        try:
            return self._convert(job, quarantine)
        except Exception:
            # A record the converter raises on: find it (and any other) and convert the rest. The registry goes
            # back to where it stood, so the conversion after screening is the one a replay makes.
            log.warning("converting write %d failed; screening its records", job.job, exc_info=True)
            self.registry.fields, self.registry.dirty = fields, dirty
            self._screen(job, quarantine, announce=False)
            return self._convert(job, quarantine)

    def _convert(self, job: WriteJob, quarantine: dict[tuple[int, int], str]) -> _Encoded:
        objects: list[PendingObject] = []
        failed = 0
        for buffer in job.buffers:
            isolated = {o: reason for (p, o), reason in quarantine.items() if p == buffer.partition}
            found, errors = partition_objects(self.config, self.layout, self.registry, buffer, isolated)
            objects.extend(found)
            failed += errors
        snapshot = None
        if self.registry.dirty:
            self.registry.dirty = False
            snapshot = self.registry.to_json()
        return _Encoded(objects, failed, snapshot)

    def _screen(self, job: WriteJob, quarantine: dict[tuple[int, int], str], announce: bool) -> None:
        """Convert ``job``'s records in probes of :data:`SCREEN_GROUP` (one by one in its narrowed groups), each
        announced first when ``announce``; records that raise on their own are added to ``quarantine``."""
        for buffer in job.buffers:
            partition, offsets = buffer.partition, buffer.offsets
            for start in range(0, len(offsets), SCREEN_GROUP):
                group = [i for i in range(start, min(start + SCREEN_GROUP, len(offsets)))
                         if (partition, offsets[i]) not in quarantine]  # fmt: skip
                if not group:
                    continue
                if (partition, offsets[start]) not in job.narrow:
                    if announce:
                        self.send(Screening(job.job, partition, offsets[start], None))
                    if self._probe(buffer, group) is None:
                        continue
                for i in group:
                    if announce:
                        self.send(Screening(job.job, partition, offsets[start], offsets[i]))
                    problem = self._probe(buffer, [i])
                    if problem is not None:
                        quarantine[(partition, offsets[i])] = f"converting this record failed: {problem}"
        if announce:
            self.send(Screened(job.job))

    def _probe(self, buffer: PackedBuffer, indices: list[int]) -> str | None:
        """Convert the records at ``indices`` of ``buffer`` as the job would, on a copy of the registry; why that
        raised, or None."""
        sub = PackedBuffer(
            buffer.partition,
            PackedRecords.of([buffer.record(i) for i in indices]),
            array("q", [buffer.offsets[i] for i in indices]),
            array("q", [buffer.timestamps[i] for i in indices]),
        )
        registry = SchemaRegistry(dict(self.registry.fields), declared=self.registry.declared)
        try:
            partition_objects(self.config, self.layout, registry, sub)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}"
        return None

    async def _upload(self, job: int) -> None:
        try:
            result = await self._write(job)
        except Exception as exc:
            log.debug("write failed", exc_info=True)
            self.send(_failure(job, exc))
        else:
            self.send(result)

    async def _write(self, job: int) -> WriteResult:
        """Every object of ``job`` in S3 (and the registry, if it grew), then the counts."""
        encoded = await self._encoded.pop(job)
        totals = {"objects": 0, "error_objects": 0, "records_delivered": 0, "bytes_written": 0}

        async def upload(obj: PendingObject) -> None:
            await self.dest.put(obj.key, obj.body, obj.content_type)
            totals["bytes_written"] += len(obj.body)
            if obj.is_error:
                totals["error_objects"] += 1
            else:
                totals["objects"] += 1
                totals["records_delivered"] += obj.records

        try:
            async with asyncio.TaskGroup() as uploads:
                for obj in encoded.objects:
                    uploads.create_task(upload(obj))
                if encoded.registry is not None:
                    uploads.create_task(
                        self.dest.put(schema_key(self.config.name), encoded.registry, "application/json")
                    )
        except ExceptionGroup as group:  # one failed upload stops the write; report it as itself
            raise group.exceptions[0] from None
        finally:
            self._send_status()
            # Arrow's allocator keeps freed pages for reuse; hand them back between writes (memory is budgeted).
            pa.default_memory_pool().release_unused()
        data_keys = [obj.key for obj in encoded.objects if not obj.is_error]
        return WriteResult(
            job,
            records_failed=encoded.failed,
            last_key=max(data_keys, default=None),
            data_keys=tuple(data_keys),
            **totals,
        )

    async def _report_status(self) -> None:
        while True:
            await asyncio.sleep(0.2)
            self._send_status()

    def _send_status(self) -> None:
        status = Status(self.dest.retries, self.dest.waiting_since is not None)
        if status != self._status:
            self._status = status
            self.send(status)


def _read_input(stream: IO[bytes], inbox: queue.Queue[Any]) -> None:
    """Reader thread: messages to ``inbox``; at end of input (the parent closed it or died) exit at once."""
    while True:
        try:
            message = read_frame(stream)
            if message is None or (isinstance(message, WriteJob) and not read_job_blocks(message, stream)):
                os._exit(0)
        except BaseException:  # a garbled input: die loudly, the parent restarts the worker
            log.exception("unreadable input from the delivery stream")
            os._exit(3)
        inbox.put(message)


async def serve(init: Init, inbox: queue.Queue[Any], out: IO[bytes]) -> None:
    try:
        worker = Worker(init, out)
        worker.start_reporting()
        await worker.prepare()
    except Exception as exc:
        log.debug("worker start failed", exc_info=True)
        out.write(frame(_failure(None, exc)))
        out.flush()
        return
    worker.send(Ready())
    await worker.serve(inbox)


def _failure(job: int | None, exc: BaseException) -> Failed:
    if isinstance(exc, DestinationError):
        return Failed(job, str(exc), fatal_destination=True)
    return Failed(job, f"{type(exc).__name__}: {exc}")


#: The level first: the worker shares its sink's stderr, and under ``kemu up`` the sink's parent takes a line's first
#: word for its level (as it does for its own children, emulator.logs.setup_child_logging). The parent adds the time.
LOG_FORMAT = "%(levelname)s %(name)s: %(message)s"


def main() -> None:
    # Ctrl-C reaches the whole process group; the parent decides when to stop (after writing what it buffered).
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    # The protocol owns the original stdout; anything else printed goes to stderr instead of corrupting it.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    stdin = sys.stdin.buffer
    init = read_frame(stdin)
    if not isinstance(init, Init):
        sys.exit(2)
    logging.basicConfig(level=init.log_level, stream=sys.stderr, format=LOG_FORMAT)
    inbox: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=_read_input, args=(stdin, inbox), daemon=True, name="worker-input").start()
    asyncio.run(serve(init, inbox, out))


if __name__ == "__main__":
    main()
