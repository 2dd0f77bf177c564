"""``kemu up``: the pipeline components (child processes) under a supervisor, the API served in this process, a live
status line, and an orderly stop (API first, then components newest first) on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from emulator.api import ApiConfig, ApiResources, create_app
from emulator.api.lake import LakeConfig
from emulator.api.server import ApiServer
from emulator.endpoints import ResolvedEndpoints
from emulator.runtime.child_process import pipeline_processes
from emulator.runtime.components import ComponentFactory
from emulator.runtime.pipeline_topics import create_missing, pipeline_topics
from emulator.supervision import RestartBackoff, State, Supervisor, SupervisorEvent
from emulator.topics import kemu_topics


@dataclass(frozen=True)
class DemoStatus:
    """One snapshot for the status line."""

    uptime_s: float
    boards: int
    results: int
    alerts: int
    components_up: int
    components: int
    failures: int
    restarts: int
    records_per_s: float
    lag: int

    def line(self) -> str:
        return (
            f"up {self.uptime_s:5.0f} s · components {self.components_up}/{self.components} running"
            f" · failures {self.failures} · restarts {self.restarts} · {self.records_per_s:,.0f} rec/s"
            f" · lag {self.lag:,} · boards {self.boards} · results {self.results:,} · alerts {self.alerts:,}"
        )


def status_of(resources: ApiResources, started: float) -> DemoStatus:
    statuses = resources.supervisor.statuses()
    streams = resources.inspector.answer.streams if resources.inspector else []
    stats = resources.view.stats
    return DemoStatus(
        uptime_s=time.monotonic() - started,
        boards=len(resources.view.boards()),
        results=stats.results_applied,
        alerts=resources.view.alert_count,
        components_up=sum(s.state is State.RUNNING for s in statuses),
        components=len(statuses),
        failures=sum(s.failures for s in statuses),
        restarts=sum(s.restarts for s in statuses),
        records_per_s=sum(s.records_per_s for s in streams),
        lag=sum(c.lag for s in streams for c in s.consumers),
    )


class Demo:
    """Runs until :meth:`stop` (or a signal, with :meth:`install_signal_handlers`).

    By default every pipeline component runs in a child process of its own (:mod:`emulator.runtime.child_process`)
    and this process only serves the API; ``factories`` may instead give components to run in this event loop
    (tests inject a results publisher so).
    """

    def __init__(
        self,
        context: ResolvedEndpoints,
        factories: Sequence[ComponentFactory] = (pipeline_processes(),),
        on_event: Callable[[SupervisorEvent], None] | None = None,
        port: int | None = None,
        backoff: RestartBackoff | None = None,
        create_topics: bool = False,
    ) -> None:
        settings = context.settings
        self.context = context
        #: Create the pipeline's topics before anything starts (``kemu up``; :mod:`emulator.runtime.pipeline_topics`).
        self._create_topics = create_topics
        # A child's clean stop (the engine's last checkpoint, a sink's last object) gets its own 20 s bound before
        # SIGKILL; the supervisor's must be longer, or it would abandon the child before that.
        self.supervisor = Supervisor(backoff=backoff, on_event=on_event, stop_timeout_s=30.0)
        for factory in factories:
            for component in factory(context):
                self.supervisor.add(component)
        self.app = create_app(
            ApiConfig(
                serving=settings.serving,
                kafka_bootstrap=context.kafka_bootstrap,
                s3=context.s3,
                internal_topics=kemu_topics(settings),
                lake=LakeConfig(settings.kinesis.glue.catalog_topic, settings.kinesis.account_id),
            ),
            supervisor=self.supervisor,
        )
        # uvicorn's per-request chatter only when debugging; its start/stop lines otherwise.
        server_log_level = "info" if settings.log_level == "DEBUG" else "warning"
        self.server = ApiServer(
            self.app, settings.api.host, settings.api.port if port is None else port, server_log_level
        )
        self._stop = asyncio.Event()
        self._started = time.monotonic()

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def resources(self) -> ApiResources:
        resources: ApiResources = self.app.state.resources
        return resources

    def status(self) -> DemoStatus:
        return status_of(self.resources, self._started)

    def stop(self) -> None:
        self._stop.set()

    def install_signal_handlers(self) -> None:
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, self._stop.set)

    async def run(
        self, on_ready: Callable[[Demo], None] | None = None, on_tick: Callable[[DemoStatus], None] | None = None
    ) -> None:
        """Start everything, call ``on_ready`` once the API answers, ``on_tick`` every second, stop cleanly."""
        if self._create_topics:
            await create_missing(self.context.kafka_bootstrap, pipeline_topics(self.context.settings))
        await self.supervisor.start()
        server_task = asyncio.create_task(self.server.serve(), name="api-server")
        try:
            await self.server.wait_started(server_task)
            if on_ready is not None:
                on_ready(self)
            while not self._stop.is_set() and not server_task.done():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), 1.0)
                if on_tick is not None:
                    on_tick(self.status())
        finally:
            # Open event streams would hold the server's graceful shutdown: end them first.
            resources = getattr(self.app.state, "resources", None)
            if resources is not None:
                resources.view.close()
            self.server.request_exit()
            with contextlib.suppress(asyncio.CancelledError, TimeoutError):
                await asyncio.wait_for(server_task, 10)
            await self.supervisor.stop()
        failure = server_task.exception() if server_task.done() and not server_task.cancelled() else None
        if failure is not None:
            raise failure
