"""Serving the API with uvicorn inside an event loop the caller owns (``kemu up`` runs it beside its components)."""

from __future__ import annotations

import asyncio
import contextlib
import socket
from collections.abc import Iterator

import uvicorn
from fastapi import FastAPI

from emulator.api.fastpath import in_front_of
from emulator.exceptions import ConfigurationError


class _QuietSignalsServer(uvicorn.Server):
    """uvicorn's server minus its own signal handlers: the process that embeds it decides what Ctrl-C does."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def bind(host: str, port: int) -> socket.socket:
    """The listening socket, bound before uvicorn starts, so the real port is known (``port=0`` picks a free
    one) and a taken port is one clear error instead of uvicorn exiting the process.

    The protocol is given explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose
    ``proto`` says TCP, and ``socket.create_server`` leaves it 0, which costs every response a 40 ms delayed ACK.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another with --port or KEMU_API__PORT"
        ) from exc
    return sock


class ApiServer:
    """``await server.serve()`` until :meth:`request_exit`; :attr:`url` is where it listens."""

    name = "api-server"

    def __init__(self, app: FastAPI, host: str = "127.0.0.1", port: int = 8000, log_level: str = "warning") -> None:
        self._socket = bind(host, port)
        bound_host, bound_port = self._socket.getsockname()[:2]
        shown = "127.0.0.1" if bound_host in ("0.0.0.0", "::") else bound_host  # noqa: S104 - display only
        self.url = f"http://{shown}:{bound_port}"
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
