"""The write worker as the consuming process sees it: a child process that converts and uploads, off our GIL.

Consuming (aiokafka's per-record unpacking) and converting (JSON → Arrow → Parquet) both need a core; in one
process they take turns on the GIL. So a delivery stream spawns one worker process (``python -m
sinks.worker_main``) and hands it, per write, the raw buffers of every partition; the worker converts them, PUTs
every object and answers with the counts. The consuming process commits the offsets only after that answer,
so the exactly-once protocol (plan, write, commit) is unchanged.

Messages are length-prefixed pickles over the child's stdin and stdout: the peer is our own child, spawned from
the same code. A worker that dies (killed, out of memory) is noticed as end of file; it is restarted and given the
same write again, which rewrites the same keys with the same bytes, as a replay after a crash does. A worker that
keeps dying while converting the same write is made to find the record that kills it (:mod:`sinks.isolation`).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import os
import pickle
import struct
import sys
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any, TypeVar

from sinks.buffering import PackedBuffer, PartitionBuffer
from sinks.config import DeliveryStreamConfig, S3Connection
from sinks.exceptions import DestinationError, SinkError, StopRequested
from sinks.isolation import MAX_PLAIN_DEATHS, JobIsolation, describe_exit

log = logging.getLogger(__name__)
T = TypeVar("T")

_HEADER = struct.Struct("!Q")
#: Bytes handed to the pipe at a time. asyncio copies whatever a write leaves unsent into its own buffer, so a block
#: written whole would be copied almost whole; in slices of the pipe's size, at most one slice is.
SEND_SLICE = 1 << 20
#: A raw block as sent: a partition buffer's ``bytearray`` in the consuming process, ``bytes`` once read.
Block = bytes | bytearray
#: The module the worker process runs.
WORKER_MODULE = "sinks.worker_main"
#: The child must import this very ``sinks`` (a source checkout, a test run's path), not another install.
_ROOT = str(Path(__file__).resolve().parent.parent)


@dataclass(frozen=True)
class Init:
    """First message to a worker: what it writes, and where."""

    config: DeliveryStreamConfig
    s3: S3Connection
    log_level: int


@dataclass(frozen=True)
class WriteJob:
    """The buffers of one write, in partition order: the worker converts them at once, but uploads nothing before
    the :class:`Go` of the same ``job``. Each buffer's joined records travel as a raw block after this message
    (``sizes`` gives their lengths): pickling them would copy megabytes twice on each side."""

    job: int
    buffers: list[PackedBuffer]
    sizes: list[int]
    #: Isolation (:mod:`sinks.isolation`): screen the records in announced groups before converting them; the
    #: quarantined (partition, offset) records go to the errors with their reason; the ``narrow`` groups
    #: (partition, first offset) are screened record by record.
    screen: bool = False
    quarantine: dict[tuple[int, int], str] = field(default_factory=dict)
    narrow: frozenset[tuple[int, int]] = frozenset()


@dataclass(frozen=True)
class Converted:
    """The worker converted ``job`` (its objects wait for the ``Go``)."""

    job: int


@dataclass(frozen=True)
class Screening:
    """Sent before the worker converts a screening probe of ``job``: the group of ``partition`` starting at offset
    ``group``, or only its record at ``record``."""

    job: int
    partition: int
    group: int
    record: int | None


@dataclass(frozen=True)
class Screened:
    """Every screening probe of ``job`` passed: its own conversion follows."""

    job: int


@dataclass(frozen=True)
class Go:
    """The write's plan is committed: upload the objects of ``job``."""

    job: int


def job_message(job: int, buffers: list[PartitionBuffer]) -> tuple[WriteJob, list[Block]]:
    """One job's message (its records left out) and the raw blocks that follow it, one per buffer: the buffers' own
    blocks, not copies."""
    packed = [PackedBuffer.pack(b) for b in buffers]
    blocks = [p.records.joined for p in packed]
    for p in packed:
        p.records.joined = b""
    return WriteJob(job, packed, [len(b) for b in blocks]), blocks


def job_frames(job: int, buffers: list[PartitionBuffer]) -> list[Block]:
    """The pieces to write for one job: the message, then one raw block per buffer."""
    message, blocks = job_message(job, buffers)
    return [frame(message), *blocks]


def read_job_blocks(job: WriteJob, stream: IO[bytes]) -> bool:
    """Read the raw blocks that follow ``job`` into its buffers; ``False`` at end of file."""
    for packed, size in zip(job.buffers, job.sizes, strict=True):
        block = stream.read(size)
        if len(block) < size:
            return False
        packed.records.joined = block
    return True


@dataclass(frozen=True)
class Ready:
    """The worker loaded the schema registry and cleaned incomplete uploads: it takes writes."""


@dataclass(frozen=True)
class Status:
    """S3 requests retried so far by this worker, and whether it is waiting for S3 right now."""

    retries: int
    waiting: bool


@dataclass(frozen=True)
class WriteResult:
    """What one write delivered; every object is complete in S3 when the worker sends this."""

    job: int
    objects: int = 0
    error_objects: int = 0
    records_delivered: int = 0
    records_failed: int = 0
    bytes_written: int = 0
    #: The greatest key of the data objects written (keys sort by time within a prefix), for progress displays.
    last_key: str | None = None
    #: Every data object written (not the error objects), for a caller that registers them in a catalog.
    data_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class Failed:
    """The worker could not start (``job`` None) or write: ``fatal_destination`` for S3 refusals retrying cannot
    fix."""

    job: int | None
    message: str
    fatal_destination: bool = False


def frame(message: object) -> bytes:
    """A message as written on the pipe: an 8-byte length, then the pickle."""
    body = pickle.dumps(message, protocol=pickle.HIGHEST_PROTOCOL)
    return _HEADER.pack(len(body)) + body


def read_frame(stream: IO[bytes]) -> Any | None:
    """The next message from a blocking stream, or ``None`` at end of file."""
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        return None
    (size,) = _HEADER.unpack(header)
    body = stream.read(size)
    if len(body) < size:
        return None
    return pickle.loads(body)  # noqa: S301 - the peer is our own parent process, over a private pipe


def _widen_pipe(proc: asyncio.subprocess.Process) -> None:
    """Grow the job pipe to 1 MiB (Linux): a 5 MiB job then crosses in a few writes instead of eighty 64 KiB ones,
    each of which moves the rest of asyncio's write buffer."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return
    pipe = proc.stdin.get_extra_info("pipe") if proc.stdin is not None else None
    set_size = getattr(fcntl, "F_SETPIPE_SZ", None)
    if pipe is not None and set_size is not None:
        with contextlib.suppress(OSError):
            fcntl.fcntl(pipe.fileno(), set_size, 1 << 20)


class WorkerDied(SinkError):
    """The worker process ended (or closed its pipe) while it had work."""

    def __init__(self, message: str, generation: int, exit_code: int | None = None) -> None:
        super().__init__(message)
        #: Which start of the worker died (a death is handled once, whoever notices it).
        self.generation = generation
        self.exit_code = exit_code


@dataclass
class _Outstanding:
    message: WriteJob
    #: Kept until the write is done: a worker that dies before is restarted and sent them again.
    blocks: list[Block]
    go: bool = False
    converted: bool = False
    isolation: JobIsolation = field(default_factory=JobIsolation)

    def pieces(self) -> list[Block]:
        isolation = self.isolation
        message = dataclasses.replace(
            self.message,
            screen=isolation.screen,
            quarantine=dict(isolation.quarantine),
            narrow=frozenset(isolation.narrow),
        )
        return [frame(message), *self.blocks]


class WriteWorker:
    """Parent-side handle of one delivery stream's worker process.

    ``start``; then per write ``submit`` (the worker starts converting), ``go`` once the plan is committed (the
    worker uploads), and ``result``. The next write may be submitted while one is uploading, so conversion overlaps
    the commits and uploads of the write before; its ``go`` must wait for that write's final commit.
    """

    def __init__(self, config: DeliveryStreamConfig, s3: S3Connection, module: str = WORKER_MODULE) -> None:
        """``module`` is what the worker process runs (``python -m``)."""
        self._config = config
        self._s3 = s3
        self._module = module
        self._proc: asyncio.subprocess.Process | None = None
        self._reader: asyncio.Task[None] | None = None
        self._results: dict[int, asyncio.Future[WriteResult]] = {}
        self._ready: asyncio.Future[None] | None = None
        self._outstanding: dict[int, _Outstanding] = {}
        self._next_job = 0
        # A job's pieces go out with awaits in between; another message must not land inside them.
        self._sending = asyncio.Lock()
        # One death is handled once, though the reader, a send and every waiting write may all notice it.
        self._recovering = asyncio.Lock()
        self._generation = 0
        #: Deaths since the last completed write, while no write was converting (during uploads).
        self._idle_deaths = 0
        self._retries_before = 0  # retries counted by workers that were replaced
        self._retries_now = 0
        #: Whether the worker is waiting for S3 right now (an outage).
        self.waiting = False
        #: Workers started after the first one died.
        self.restarts = 0

    @property
    def retries(self) -> int:
        """S3 requests retried by this stream's workers since start."""
        return self._retries_before + self._retries_now

    async def start(self) -> None:
        """Spawn the worker and wait until it is ready; a fatal S3 refusal (e.g. no such bucket) raises here."""
        env = worker_environment(os.environ)
        # A process group of its own: a terminal's Ctrl-C (sent to the whole foreground group) would otherwise reach
        # the worker too, even while it is still importing, before it can ignore it. The end of its input stops it.
        # setpgrp in the child rather than ``process_group=0``, which uvloop's subprocess support refuses (the
        # Firehose API runs delivery streams on uvloop); not a new session, which would escape the caller's nice
        # value under the kernel's autogroup scheduling.
        self._proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", self._module,
            stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE, env=env, preexec_fn=os.setpgrp,
        )  # fmt: skip
        _widen_pipe(self._proc)
        self._generation += 1
        self._retries_before += self._retries_now
        self._retries_now = 0
        self.waiting = False
        self._ready = asyncio.get_running_loop().create_future()
        self._reader = asyncio.create_task(
            self._read(self._proc, self._generation), name=f"worker-reader-{self._config.name}"
        )
        level = logging.getLogger("sinks").getEffectiveLevel()
        await self._send(frame(Init(self._config, self._s3, level)))
        await self._wait(self._ready, None)

    async def submit(self, buffers: list[PartitionBuffer]) -> int:
        """Hand a write's buffers to the worker, which converts them at once; returns the job's number."""
        job = self._next_job
        self._next_job += 1
        self._outstanding[job] = _Outstanding(*job_message(job, buffers))
        self._results[job] = asyncio.get_running_loop().create_future()
        await self._guarded(self._send, *self._outstanding[job].pieces())
        return job

    async def go(self, job: int) -> None:
        """Let the worker upload ``job`` (its plan is committed)."""
        self._outstanding[job].go = True
        await self._guarded(self._send, frame(Go(job)))

    async def result(self, job: int, stop: asyncio.Event | None) -> WriteResult:
        """Wait until every object of ``job`` is in S3.

        A worker that dies is restarted and given the outstanding jobs again (same keys, same bytes). A ``stop``
        while the worker waits for S3 abandons the write with :class:`StopRequested` (nothing is committed)."""
        while True:
            try:
                result = await self._wait(self._results[job], stop)
            except WorkerDied as died:
                await self._recover(died)
                continue
            del self._results[job]
            self._outstanding.pop(job, None)
            self._idle_deaths = 0
            return result

    async def close(self) -> None:
        """Let the worker exit (end of its input); kill it if it does not within a few seconds."""
        proc = self._proc
        if proc is None:
            return
        if proc.stdin is not None:
            proc.stdin.close()
        try:
            await asyncio.wait_for(proc.wait(), 5)
        except TimeoutError:
            await self._kill()
        finally:
            if self._reader is not None:
                self._reader.cancel()
            self._proc = None

    async def _recover(self, died: WorkerDied) -> None:
        """Restart the worker after ``died`` (once per death) and give it every outstanding job again.

        The death counts against the write it was converting, which after repeated deaths is screened to find the
        record that kills it (:mod:`sinks.isolation`); :class:`SinkError` when the stream must give up."""
        async with self._recovering:
            if died.generation != self._generation:
                return  # another task already restarted the worker after this death
            while True:
                self._account(died)
                log.warning("write worker of %r died (%s); restarting it and writing again", self._config.name, died)
                await self._kill()
                self.restarts += 1
                for future in self._results.values():
                    if future.done():
                        future.exception()  # consumed: replaced below
                self._results = {job: asyncio.get_running_loop().create_future() for job in self._outstanding}
                try:
                    await self.start()
                    for job, outstanding in self._outstanding.items():
                        outstanding.converted = False
                        await self._send(*outstanding.pieces())
                        if outstanding.go:
                            await self._send(frame(Go(job)))
                except WorkerDied as again:
                    died = again
                    continue
                return

    def _account(self, died: WorkerDied) -> None:
        """Count ``died`` against the write being converted, or against the worker when none was."""
        converting = next((o for o in self._outstanding.values() if not o.converted), None)
        if converting is not None:
            converting.isolation.on_death(self._config.name, died.exit_code)
            return
        self._idle_deaths += 1
        if self._idle_deaths > MAX_PLAIN_DEATHS:
            raise SinkError(f"the write worker of {self._config.name!r} keeps dying: {died}")

    async def _guarded(self, send: Any, *pieces: Block) -> None:
        """Send; a dead worker is restarted, and the restart resends everything outstanding, these pieces included."""
        try:
            await send(*pieces)
        except WorkerDied as died:
            await self._recover(died)

    async def _kill(self) -> None:
        proc = self._proc
        if proc is not None and proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                proc.kill()
            await proc.wait()

    async def _send(self, *pieces: Block) -> None:
        proc, generation = self._proc, self._generation
        if proc is None or proc.stdin is None or proc.returncode is not None:
            raise WorkerDied("not running", generation, None if proc is None else proc.returncode)
        try:
            async with self._sending:
                for piece in pieces:
                    with memoryview(piece) as view:
                        for start in range(0, len(view), SEND_SLICE):
                            proc.stdin.write(view[start : start + SEND_SLICE])
                            await proc.stdin.drain()
        except (BrokenPipeError, ConnectionResetError) as exc:
            code: int | None = None
            with contextlib.suppress(TimeoutError):
                code = await asyncio.wait_for(proc.wait(), 5)
            closed = f"its input closed ({type(exc).__name__}, {describe_exit(code)})"
            raise WorkerDied(closed, generation, code) from None

    async def _read(self, proc: asyncio.subprocess.Process, generation: int) -> None:
        """Route the worker's messages: status to the counters, results to their jobs; end of file fails them all."""
        assert proc.stdout is not None  # noqa: S101 - spawned with stdout=PIPE
        try:
            while True:
                header = await proc.stdout.readexactly(_HEADER.size)
                (size,) = _HEADER.unpack(header)
                message = pickle.loads(await proc.stdout.readexactly(size))  # noqa: S301 - our own child
                job = getattr(message, "job", None)
                outstanding = self._outstanding.get(job) if isinstance(job, int) else None
                if isinstance(message, Status):
                    self._retries_now, self.waiting = message.retries, message.waiting
                elif isinstance(message, Converted) and outstanding is not None:
                    outstanding.converted = True
                elif isinstance(message, Screening) and outstanding is not None:
                    outstanding.isolation.announced = (message.partition, message.group, message.record)
                elif isinstance(message, Screened) and outstanding is not None:
                    outstanding.isolation.screened()
                elif isinstance(message, Ready):
                    _settle(self._ready, None)
                elif isinstance(message, WriteResult):
                    _settle(self._results.get(message.job), message)
                elif isinstance(message, Failed):
                    error = self._error(message)
                    _fail(self._ready if message.job is None else self._results.get(message.job), error)
        except (asyncio.IncompleteReadError, ConnectionResetError):
            code = await proc.wait()
            if generation != self._generation:
                return  # a worker already replaced: its death was handled, the futures now are the new worker's
            died = WorkerDied(describe_exit(code), generation, code)
            _fail(self._ready, died)
            for future in self._results.values():
                _fail(future, died)

    def _error(self, failed: Failed) -> SinkError:
        if failed.fatal_destination:
            return DestinationError(failed.message)
        return SinkError(f"the write worker of {self._config.name!r} failed: {failed.message}")

    async def _wait(self, future: asyncio.Future[T] | None, stop: asyncio.Event | None) -> T:
        if future is None:  # pragma: no cover - always set before waiting
            raise SinkError("nothing to wait for")
        while True:
            done, _ = await asyncio.wait({future}, timeout=0.25)
            if done:
                return future.result()
            if stop is not None and stop.is_set() and self.waiting:
                await self._kill()
                raise StopRequested("stopped while S3 was unavailable")


def worker_environment(parent: Mapping[str, str]) -> dict[str, str]:
    """The worker process's environment: the parent's, this ``sinks`` first on the path, and allocators that give
    freed memory back (each setting left as the user set it, if they did)."""
    env = {**parent, "PYTHONPATH": os.pathsep.join(p for p in (_ROOT, parent.get("PYTHONPATH")) if p)}
    # The worker's upload and conversion threads would each get a glibc malloc arena that keeps freed memory.
    env.setdefault("MALLOC_ARENA_MAX", "2")
    # Arrow's default pool (mimalloc) kept what a conversion had used after the write, even through
    # ``release_unused``: about 45 MiB over the worker's imports after each 16 MiB write, so the next conversion
    # started from there. With the system allocator the worker falls back to its imports between writes.
    env.setdefault("ARROW_DEFAULT_MEMORY_POOL", "system")
    return env


def _settle(future: asyncio.Future[T] | None, value: T) -> None:
    if future is not None and not future.done():
        future.set_result(value)


def _fail(future: asyncio.Future[Any] | None, error: BaseException) -> None:
    if future is not None and not future.done():
        future.set_exception(error)
