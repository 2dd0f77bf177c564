"""A pipeline component of ``kemu up`` run in a child process, supervised like an in-process one.

Why processes: the API answers people and must stay fast, while the producers, the DuckDB engine and the sinks are
CPU-heavy throughput work. In one Python process they share one event loop and one GIL, so a 20,000 events/s
pipeline starves the API (measured: p99 200 ms at 1,000 req/s). In children they run in parallel on other cores,
at a lower CPU priority (``demo.pipeline_nice``), so on a small machine the API process wins the CPU and the
pipeline catches up afterwards.

The child is ``python -m emulator pipeline-component <name>`` (a hidden command, :mod:`emulator.cli.pipeline`). It
builds the same component object ``kemu up`` would have run in process (:data:`emulator.runtime.wiring.
PIPELINE_COMPONENTS`) and runs it once. Its settings, Kafka address and S3 credentials come through the environment
(``KEMU_KAFKA__BOOTSTRAP_SERVERS``, ``KEMU_S3__*`` and the rest of the parent's settings as JSON), never argv, which
any user can read in ``ps``. It prints its ``stats()`` as one JSON line a second on stdout; its log goes to stderr,
which the parent logs line by line under the component's name.

Lifecycle: a non-zero exit raises :class:`ComponentProcessError` (the supervisor restarts with back-off); a
cancellation sends SIGTERM (the sinks flush, the engine writes a last checkpoint), waits ``stop_timeout_s``, then
kills the child's process group. The child has a process group of its own (but the parent's session, see
:meth:`ProcessComponent.run`), so Ctrl-C in a terminal reaches only ``kemu up``, which stops the children in order;
and it asks the kernel for SIGTERM should its parent die first.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import SecretStr
from pydantic_core import to_jsonable_python

from emulator.endpoints import ResolvedEndpoints
from emulator.exceptions import EmulatorError
from emulator.runtime.components import ComponentFactory
from emulator.settings import Settings
from emulator.supervision import Component, ServiceComponent

log = logging.getLogger(__name__)

#: Environment variable carrying the parent's settings (less Kafka and S3, which have their own ``KEMU_*``) as JSON.
SETTINGS_ENV = "KEMU_PIPELINE_SETTINGS"
#: The key of a stats line that carries the component's ``info()`` (words, not figures) beside its numbers.
INFO_KEY = "_info"
#: Log levels a child's stderr line may start with (see :func:`emulator.logs.setup_child_logging`).
_LEVELS = {name: getattr(logging, name) for name in ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")}


class ComponentProcessError(EmulatorError):
    """A pipeline component's child process exited with an error (its last error line says which)."""


def _reveal(value: Any) -> Any:
    if isinstance(value, SecretStr):
        return value.get_secret_value()
    if isinstance(value, dict):
        return {k: _reveal(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_reveal(v) for v in value]
    return value


def child_environment(context: ResolvedEndpoints) -> dict[str, str]:
    """What a child needs to rebuild ``context``: the resolved addresses as the usual ``KEMU_*`` variables, the rest
    of the settings as JSON. Secrets are in here: it goes to the child's environment only, never argv or a log."""
    s3 = context.s3
    rest = _reveal(context.settings.model_dump(mode="python", exclude={"kafka", "s3"}))
    return {
        "KEMU_KAFKA__BOOTSTRAP_SERVERS": context.kafka_bootstrap,
        "KEMU_S3__ENDPOINT_URL": s3.endpoint_url,
        "KEMU_S3__ACCESS_KEY_ID": s3.access_key_id,
        "KEMU_S3__SECRET_ACCESS_KEY": s3.secret_access_key.get_secret_value(),
        "KEMU_S3__BUCKET": s3.bucket,
        "KEMU_S3__REGION": s3.region,
        SETTINGS_ENV: json.dumps(to_jsonable_python(rest)),
    }


def settings_from_environment(environ: Mapping[str, str]) -> Settings:
    """The child's side of :func:`child_environment`: the parent's settings, Kafka and S3 from ``KEMU_*``."""
    overrides = json.loads(environ.get(SETTINGS_ENV, "{}"))
    return Settings.load(**overrides)


class ProcessComponent:
    """Runs the pipeline component ``name`` in a child process; ``stats()`` are the child's latest report."""

    def __init__(
        self,
        name: str,
        env: Mapping[str, str],
        nice: int = 10,
        stop_timeout_s: float = 20.0,
        command: Sequence[str] | None = None,
    ) -> None:
        self.name = name
        self._env = dict(env)
        self._nice = nice
        self._stop_timeout_s = stop_timeout_s
        self._command = list(command) if command is not None else self.default_command(name, nice)
        self._stats: dict[str, float] = {}
        self._info: dict[str, str] = {}
        self._last_error: str | None = None
        self._last_line: str | None = None
        self.pid: int | None = None

    @staticmethod
    def default_command(name: str, nice: int) -> list[str]:
        return [
            sys.executable,
            "-m",
            "emulator",
            "pipeline-component",
            name,
            "--nice",
            str(nice),
            "--parent-pid",
            str(os.getpid()),
        ]

    def stats(self) -> Mapping[str, float]:
        return dict(self._stats)

    def info(self) -> Mapping[str, str]:
        return dict(self._info)

    async def run(self) -> None:
        self._last_error = self._last_line = None
        process = await asyncio.create_subprocess_exec(
            *self._command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env={**os.environ, **self._env},
            # Its own process group, so Ctrl-C in a terminal (sent to the foreground group) reaches only the parent,
            # which stops the children in order. Not its own session: with the scheduler's autogroups (on by default
            # in desktop kernels) each session is a group of its own that competes with ours at equal weight, and
            # the child's nice value would count only inside it.
            process_group=0,
        )
        self.pid = process.pid
        if process.stdout is None or process.stderr is None:  # pragma: no cover - PIPE was asked for
            raise ComponentProcessError(f"{self.name}: no pipes to the child process")
        readers = [
            asyncio.create_task(self._read_stats(process.stdout)),
            asyncio.create_task(self._read_log(process.stderr)),
        ]
        try:
            code = await process.wait()
            await asyncio.gather(*readers)  # the last lines, error included, before judging the exit
        except asyncio.CancelledError:
            await asyncio.shield(self._terminate(process))
            with contextlib.suppress(asyncio.CancelledError):
                await asyncio.shield(asyncio.gather(*readers))
            raise
        finally:
            for reader in readers:
                reader.cancel()
        if code != 0:
            how = f"was killed by {signal.Signals(-code).name}" if code < 0 else f"exited with code {code}"
            # Its own one-line error when it printed one, else whatever it said last (an uncaught exception's line).
            said = self._last_error or self._last_line
            raise ComponentProcessError(f"{self.name} {how}" + (f": {said}" if said else ""))

    async def _terminate(self, process: asyncio.subprocess.Process) -> None:
        """SIGTERM, a bounded wait for the child's own clean stop, then SIGKILL to its whole process group."""
        if process.returncode is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), self._stop_timeout_s)
        except TimeoutError:
            log.error("%s did not stop within %.0f s of SIGTERM; killing it", self.name, self._stop_timeout_s)
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            await process.wait()
        if process.returncode not in (0, -signal.SIGTERM):
            log.warning("%s exited with code %s while stopping", self.name, process.returncode)

    async def _read_stats(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            try:
                figures = json.loads(raw)
            except ValueError:
                log.warning("[%s] %s", self.name, raw.decode(errors="replace").rstrip())
                continue
            if isinstance(figures, dict):
                self._stats = {k: float(v) for k, v in figures.items() if isinstance(v, int | float)}
                info = figures.get(INFO_KEY)
                if isinstance(info, dict):
                    self._info = {str(k): str(v) for k, v in info.items()}

    async def _read_log(self, stream: asyncio.StreamReader) -> None:
        async for raw in stream:
            line = raw.decode(errors="replace").rstrip()
            if not line:
                continue
            self._last_line = line[:500]
            word = line.split(" ", 1)[0]
            level = _LEVELS.get(word, logging.WARNING)
            if word == "error:":
                level = logging.ERROR
                self._last_error = line.removeprefix("error:").strip()[:500]
            elif level >= logging.ERROR:
                self._last_error = line[:500]
            log.log(level, "[%s] %s", self.name, line)


def pipeline_processes(
    factories: Sequence[ComponentFactory] | None = None,
) -> ComponentFactory:
    """A factory of :class:`ProcessComponent`, one per component the in-process ``factories`` build (by default
    :data:`~emulator.runtime.wiring.PIPELINE_COMPONENTS`), in the same order, so the supervisor's start and stop
    order is unchanged. The in-process objects are built only for their names (their constructors do no I/O)."""

    def build(context: ResolvedEndpoints) -> Sequence[Component | ServiceComponent]:
        from emulator.runtime.wiring import PIPELINE_COMPONENTS, KinesisApiComponent, ProducerComponent

        env = child_environment(context)
        demo = context.settings.demo

        def nice(component: Component | ServiceComponent) -> int:
            if isinstance(component, KinesisApiComponent):
                # The endpoint answers the user's SDK calls, as the API answers people, and the demo does not load
                # it (the producers write to Kafka): at the pipeline's priority a user's first call waited behind
                # the engine on a busy machine, while at kemu up's own it costs nothing unless someone calls it.
                return 0
            return demo.producer_nice if isinstance(component, ProducerComponent) else demo.pipeline_nice

        return [
            ProcessComponent(component.name, env, nice=nice(component))
            for factory in (PIPELINE_COMPONENTS if factories is None else factories)
            for component in factory(context)
        ]

    return build
