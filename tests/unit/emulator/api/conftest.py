"""An API app with its results injected into the view: no broker, real HTTP semantics through httpx."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI

from emulator.api import ResultsView, create_app


@pytest.fixture
def view() -> ResultsView:
    return ResultsView(windows_per_board=8, alerts_capacity=50)


@pytest.fixture
async def app(view: ResultsView) -> AsyncIterator[FastAPI]:
    application = create_app(view=view)
    async with application.router.lifespan_context(application):
        yield application


@pytest.fixture
async def client(app: FastAPI) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http
