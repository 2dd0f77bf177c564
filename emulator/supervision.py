"""Supervision: keeping long-running parts of one process running. ``kemu up`` supervises its pipeline components and
the API's consumers with it; the Firehose API supervises each delivery stream's delivery with it.

Each component runs in its own task. One that fails is logged, counted and restarted after an exponential back-off
(reset once it has stayed up for a while), never left dead in silence. Stopping cancels the components one at a time
in the reverse of the order they were added, so producers added last stop before the consumers that drain them.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from foundation.lifecycle import AsyncResource

log = logging.getLogger(__name__)


@runtime_checkable
class Component(Protocol):
    """A long-running part: ``run()`` works until cancelled (returning means it is done; raising, that it failed)."""

    name: str

    async def run(self) -> None: ...


@runtime_checkable
class ServiceComponent(Protocol):
    """The other accepted shape: ``start()`` returns once running, ``stop()`` shuts it down."""

    name: str

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@runtime_checkable
class ReportsStats(Protocol):
    """Optional: a component with ``stats()`` has its figures exported by ``/metrics`` under its name.

    Known keys become named metrics: ``events_in``, ``events_out``, ``late_events``, ``errors``, ``sink_objects``,
    ``sink_bytes`` (counters) and ``lag`` (gauge); any other key is exported as ``kemu_component_stat``.
    """

    def stats(self) -> Mapping[str, float]: ...


@runtime_checkable
class ReportsInfo(Protocol):
    """Optional: a component with ``info()`` describes itself in words for the live page's pipeline (the stream it
    writes, the topic it reads, the last object it wrote)."""

    def info(self) -> Mapping[str, str]: ...


class StartStopAdapter:
    """Runs a :class:`ServiceComponent` as a :class:`Component`: start, wait until cancelled, stop."""

    def __init__(self, service: ServiceComponent) -> None:
        self.service = service
        self.name = service.name

    async def run(self) -> None:
        await self.service.start()
        try:
            await asyncio.Event().wait()
        finally:
            await self.service.stop()


def as_component(thing: Component | ServiceComponent) -> Component:
    if isinstance(thing, Component):
        return thing
    if isinstance(thing, ServiceComponent):
        return StartStopAdapter(thing)
    raise TypeError(f"{thing!r} has neither run() nor start()/stop()")


@dataclass(frozen=True)
class RestartBackoff:
    """Delay before restart ``n`` (1-based): ``initial * factor ** (n - 1)``, at most ``maximum`` seconds. A
    component that ran ``reset_after_s`` before failing starts again from ``initial``."""

    initial_s: float = 0.5
    factor: float = 2.0
    maximum_s: float = 30.0
    reset_after_s: float = 60.0

    def delay(self, consecutive_failures: int) -> float:
        return float(min(self.initial_s * self.factor ** max(consecutive_failures - 1, 0), self.maximum_s))


class State(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    BACKOFF = "backoff"
    DONE = "done"
    STOPPED = "stopped"


@dataclass
class ComponentStatus:
    """What the supervisor knows of one component (shown by ``kemu up`` and exported by ``/metrics``)."""

    name: str
    state: State = State.PENDING
    starts: int = 0
    failures: int = 0
    restarts: int = 0
    consecutive_failures: int = 0
    last_error: str | None = None
    next_restart_in_s: float | None = None


@dataclass(frozen=True)
class SupervisorEvent:
    """Told to ``on_event`` on every failure and restart, for a console or a log."""

    component: str
    kind: str  # "failed" | "restarted" | "done"
    detail: str


@dataclass
class _Entry:
    component: Component
    original: Component | ServiceComponent
    restart_on_exit: bool
    status: ComponentStatus
    task: asyncio.Task[None] | None = None


class Supervisor(AsyncResource):
    """Runs components and keeps them running; ``async with Supervisor() as s: s.add(...)``."""

    def __init__(
        self,
        backoff: RestartBackoff | None = None,
        on_event: Callable[[SupervisorEvent], None] | None = None,
        stop_timeout_s: float = 15.0,
    ) -> None:
        self._backoff = backoff or RestartBackoff()
        self._on_event = on_event
        self._stop_timeout_s = stop_timeout_s
        self._entries: dict[str, _Entry] = {}
        self._running = False
        # Components told to stop whose remover was itself cancelled: :meth:`stop` still waits for them (one may own
        # a process, such as a sink's write worker, that must exit before the event loop closes).
        self._stopping: set[asyncio.Task[None]] = set()

    # --- lifecycle ------------------------------------------------------------------------------------------

    def add(self, thing: Component | ServiceComponent, restart_on_exit: bool = False) -> None:
        """Register a component (started at once if the supervisor runs). Names are unique.

        ``restart_on_exit``: also restart it when ``run()`` returns (for loops that should never end).
        """
        component = as_component(thing)
        if component.name in self._entries:
            raise ValueError(f"a component named {component.name!r} is already supervised")
        entry = _Entry(component, thing, restart_on_exit, ComponentStatus(component.name))
        self._entries[thing.name] = entry
        if self._running:
            self._launch(entry)

    async def start(self) -> None:
        self._running = True
        for entry in self._entries.values():
            if entry.task is None:
                self._launch(entry)

    async def stop(self) -> None:
        """Cancel every component, newest first, each given ``stop_timeout_s`` to finish its own shutdown."""
        self._running = False
        for name in reversed(list(self._entries)):
            await self.remove(name)
        if self._stopping:
            await asyncio.wait(set(self._stopping), timeout=self._stop_timeout_s)

    async def remove(self, name: str) -> None:
        """Stop one component and forget it."""
        entry = self._entries.pop(name, None)
        if entry is None or entry.task is None:
            return
        entry.task.cancel()
        self._stopping.add(entry.task)
        entry.task.add_done_callback(self._stopping.discard)
        try:
            await asyncio.wait_for(asyncio.shield(entry.task), self._stop_timeout_s)
        except asyncio.CancelledError:
            if not entry.task.done():  # we ourselves were cancelled, not the component
                raise
        except TimeoutError:
            log.error("component %s did not stop within %.0f s; abandoned", name, self._stop_timeout_s)
        entry.status.state = State.STOPPED

    # --- introspection --------------------------------------------------------------------------------------

    def statuses(self) -> list[ComponentStatus]:
        return [entry.status for entry in self._entries.values()]

    def status(self, name: str) -> ComponentStatus | None:
        entry = self._entries.get(name)
        return entry.status if entry else None

    def component_stats(self) -> dict[str, Mapping[str, float]]:
        """``stats()`` of every component that has one; a failing ``stats()`` is logged and left out."""
        return self._reports(ReportsStats, "stats")

    def component_info(self) -> dict[str, Mapping[str, str]]:
        """``info()`` of every component that has one; a failing ``info()`` is logged and left out."""
        return self._reports(ReportsInfo, "info")

    def _reports(self, kind: type, method: str) -> dict[str, Any]:
        found: dict[str, Any] = {}
        for name, entry in self._entries.items():
            if isinstance(entry.original, kind):
                try:
                    found[name] = getattr(entry.original, method)()
                except Exception as exc:
                    log.warning("%s() of %s failed: %s", method, name, exc)
        return found

    # --- the keep-running loop ------------------------------------------------------------------------------

    def _launch(self, entry: _Entry) -> None:
        entry.task = asyncio.create_task(self._keep_running(entry), name=f"component:{entry.status.name}")

    def _tell(self, name: str, kind: str, detail: str) -> None:
        if self._on_event is not None:
            try:
                self._on_event(SupervisorEvent(name, kind, detail))
            except Exception:
                log.exception("supervisor event callback failed")

    async def _keep_running(self, entry: _Entry) -> None:
        status = entry.status
        while True:
            status.state = State.RUNNING
            status.starts += 1
            status.next_restart_in_s = None
            started = time.monotonic()
            try:
                await entry.component.run()
            except asyncio.CancelledError:
                status.state = State.STOPPED
                raise
            except Exception as exc:
                if time.monotonic() - started >= self._backoff.reset_after_s:
                    status.consecutive_failures = 0
                status.consecutive_failures += 1
                status.failures += 1
                status.last_error = f"{type(exc).__name__}: {exc}"[:500]
                delay = self._backoff.delay(status.consecutive_failures)
                log.error(
                    "component %s failed (%s); restart %d in %.1f s",
                    status.name,
                    status.last_error,
                    status.failures,
                    delay,
                    exc_info=exc,
                )
                self._tell(status.name, "failed", f"{status.last_error}; restarting in {delay:.1f} s")
            else:
                if not entry.restart_on_exit:
                    status.state = State.DONE
                    self._tell(status.name, "done", "finished")
                    return
                delay = self._backoff.initial_s
            status.state = State.BACKOFF
            status.next_restart_in_s = delay
            await asyncio.sleep(delay)
            status.restarts += 1
            self._tell(status.name, "restarted", f"restart {status.restarts}")
