"""Serving the API with uvicorn inside an event loop the caller owns (``kemu up`` runs it beside its components)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from emulator.api.fastpath import in_front_of
from emulator.exceptions import ConfigurationError
from emulator.listen import bind_listener, display_url


class _QuietSignalsServer(uvicorn.Server):
    """uvicorn's server minus its own signal handlers: the process that embeds it decides what Ctrl-C does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class ApiServer:
    """``await server.serve()`` until :meth:`request_exit`; :attr:`url` is where it listens."""

    name = "api-server"

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
        self._socket = bind_listener(host, port, "--port or KEMU_API__PORT")
        self.url = display_url(self._socket)
        config = uvicorn.Config(
            in_front_of(app),
            log_level=log_level.lower(),
            access_log=False,
            lifespan="on",
            timeout_graceful_shutdown=3,
            http="httptools",
        )
        self._server = _QuietSignalsServer(config)

    @property
    def started(self) -> bool:
        return self._server.started

    async def serve(self) -> None:
        try:
            await self._server.serve(sockets=[self._socket])
        finally:
            self._socket.close()

    async def wait_started(self, task: asyncio.Task[None], timeout_s: float = 30.0) -> None:
        """Return once the server accepts requests; raise if it stopped (its lifespan failed) or took too long."""
        deadline = asyncio.get_running_loop().time() + timeout_s
        while not self._server.started:
            if task.done():
                task.result()
                raise ConfigurationError("the API server stopped while starting; see the log above")
            if asyncio.get_running_loop().time() > deadline:
                raise ConfigurationError(f"the API server did not start within {timeout_s:.0f} s")
            await asyncio.sleep(0.02)

    def request_exit(self) -> None:
        self._server.should_exit = True
