"""The FastAPI application served for real, on a free loopback port, inside the test's event loop."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI

from emulator.api.server import ApiServer


@contextlib.asynccontextmanager
async def serving(app: FastAPI, stop_timeout_s: float = 15) -> AsyncIterator[str]:
    """``app`` served for the block, once it accepts requests: its URL. Stopped on the way out, whatever happens."""
    server = ApiServer(app, "127.0.0.1", 0)
    task = asyncio.create_task(server.serve())
    await server.wait_started(task)
    try:
        yield server.url
    finally:
        server.request_exit()
        await asyncio.wait_for(task, stop_timeout_s)
