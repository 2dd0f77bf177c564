"""The write worker process: ``python -m sinks.worker_main``, spawned by :class:`sinks.worker.WriteWorker`.

It reads an :class:`~sinks.worker.Init`, then one :class:`~sinks.worker.WriteJob` at a time from stdin, and for
each converts the partitions in order (the schema registry grows deterministically), uploads every object while
the next partition converts, saves the registry if it grew, and only then answers with a
:class:`~sinks.worker.WriteResult`. It exits at the end of its input, which is also what it sees when the parent
dies: an orphan never goes on writing.
"""

from __future__ import annotations

import asyncio
import logging
import os
import queue
import signal
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import pyarrow as pa

from sinks.exceptions import DestinationError
from sinks.naming import STREAM_VERSION
from sinks.objects import PendingObject, partition_objects
from sinks.prefixes import KeyLayout
from sinks.s3 import S3Destination, make_client
from sinks.schema import SchemaRegistry
from sinks.worker import Failed, Go, Init, Ready, Status, WriteJob, WriteResult, frame, read_frame, read_job_blocks

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
        self.dest = S3Destination(make_client(init.s3), self.config.bucket)
        self._out = out
        self._status = Status(0, False)
        self._encoder = ThreadPoolExecutor(max_workers=1, thread_name_prefix="encode")
        self._to_encode: asyncio.Queue[WriteJob] = asyncio.Queue()
        self._encoded: dict[int, asyncio.Future[_Encoded]] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def send(self, message: object) -> None:
        self._out.write(frame(message))
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

    async def serve(self, inbox: queue.Queue[Any]) -> None:
        self._spawn(self._encode_loop())
        self._spawn(self._report_status())
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
                encoded = await loop.run_in_executor(self._encoder, self._encode, job)
            except Exception as exc:
                future.set_exception(exc)
            else:
                future.set_result(encoded)
            del job  # the raw records are not needed any more; do not keep them until the next job arrives

    def _encode(self, job: WriteJob) -> _Encoded:
        objects: list[PendingObject] = []
        failed = 0
        for buffer in job.buffers:
            found, errors = partition_objects(self.config, self.layout, self.registry, buffer)
            objects.extend(found)
            failed += errors
        snapshot = None
        if self.registry.dirty:
            self.registry.dirty = False
            snapshot = self.registry.to_json()
        return _Encoded(objects, failed, snapshot)

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
        return WriteResult(job, records_failed=encoded.failed, last_key=max(data_keys, default=None), **totals)

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
    logging.basicConfig(
        level=init.log_level, stream=sys.stderr, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    inbox: queue.Queue[Any] = queue.Queue()
    threading.Thread(target=_read_input, args=(stdin, inbox), daemon=True, name="worker-input").start()
    asyncio.run(serve(init, inbox, out))


if __name__ == "__main__":
    main()
