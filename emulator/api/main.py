"""The FastAPI application: wiring only. Routers live in :mod:`emulator.api.routers`, resources in the lifespan."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi_offline import FastAPIOffline

from emulator.api.consumer import ResultsConsumer
from emulator.api.fastpath import LeaderboardFastPath
from emulator.api.lake import LakePanel
from emulator.api.metrics import registry_for
from emulator.api.resources import ApiConfig, ApiResources, S3Probe
from emulator.api.routers import alerts, health, lake, leaderboards, metrics, page, pipeline, streams
from emulator.api.streams import StreamsInspector
from emulator.api.view import ResultsView
from emulator.supervision import Supervisor
from emulator.version import installed_version


def create_app(
    config: ApiConfig | None = None, *, view: ResultsView | None = None, supervisor: Supervisor | None = None
) -> FastAPI:
    """The API for ``config``.

    ``view``: a results view to serve (tests inject results into one); a new one otherwise. ``supervisor``: where the
    API's own Kafka components run (``kemu up`` passes the demo's, so they show in its status and metrics); the app
    runs a supervisor of its own otherwise.
    """
    config = config or ApiConfig()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        serving = config.serving
        results = view or ResultsView(serving.windows_per_board, serving.alerts_capacity)
        owned = supervisor is None
        runner = supervisor or Supervisor()
        resources = ApiResources(config=config, view=results, supervisor=runner)
        if config.kafka_bootstrap:
            resources.consumer = ResultsConsumer(
                config.kafka_bootstrap, serving.results_topic, serving.alerts_topic, results
            )
            resources.inspector = StreamsInspector(
                config.kafka_bootstrap, serving.streams, serving.streams_poll_s, config.internal_topics
            )
        if config.s3 is not None:
            resources.s3_probe = S3Probe(config.s3)
        if config.lake is not None and config.kafka_bootstrap and config.s3 is not None:
            resources.lake = LakePanel(config.lake, config.kafka_bootstrap, config.s3)
        app.state.resources = resources
        app.state.registry = registry_for(resources)
        added = [c for c in (resources.consumer, resources.inspector, resources.lake) if c is not None]
        for component in added:
            runner.add(component)
        if owned:
            await runner.start()
        try:
            yield
        finally:
            results.close()
            if owned:
                await runner.stop()
            else:
                for component in reversed(added):
                    await runner.remove(component.name)

    # Swagger UI and ReDoc from assets inside the fastapi-offline package: the docs pages work with no internet.
    app = FastAPIOffline(
        title="kemu",
        summary="Leaderboards, alerts and streams of the local Kinesis-style emulator.",
        version=installed_version(),
        lifespan=lifespan,
    )
    routers = (leaderboards, alerts, streams, pipeline, lake, health, metrics, page)
    for router in (module.router for module in routers):
        app.include_router(router)
    app.add_middleware(LeaderboardFastPath)
    app.mount("/static", StaticFiles(packages=[("emulator.api", "static")]), name="static")
    return app
