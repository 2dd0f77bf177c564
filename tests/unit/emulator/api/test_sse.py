"""The event streams over a real socket (ASGI test transports buffer whole bodies), results injected into the view."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import httpx
import orjson
import pytest

from emulator.api import ResultsView, create_app
from emulator.api.models import AlertRecord, ResultRecord
from tests.support.api_server import serving
from tests.support.results import T0, alert, result


@pytest.fixture
async def served(view: ResultsView) -> AsyncIterator[str]:
    async with serving(create_app(view=view), stop_timeout_s=10) as url:
        try:
            yield url
        finally:
            view.close()  # ends the open event streams, which the server's shutdown waits for


async def read_events(url: str, path: str, count: int, started: asyncio.Event) -> list[tuple[str, Any]]:
    events: list[tuple[str, Any]] = []
    name = ""
    async with httpx.AsyncClient(base_url=url, timeout=10) as http, http.stream("GET", path) as stream:
        assert stream.headers["content-type"].startswith("text/event-stream")
        async for line in stream.aiter_lines():
            if line.startswith("retry: "):  # the first frame, sent once the subscription is registered
                started.set()
            elif line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                events.append((name, orjson.loads(line.removeprefix("data: "))))
                if len(events) == count:
                    return events
    return events


async def test_board_stream_sends_the_current_window_then_each_change_of_it(view: ResultsView, served: str) -> None:
    t1 = T0 + timedelta(minutes=1)
    view.apply_result(ResultRecord.model_validate(result("top", t1, {"a": 1})))
    started = asyncio.Event()
    reader = asyncio.create_task(read_events(served, "/leaderboards/top/stream?limit=2", 3, started))
    await started.wait()
    late = result("top", T0, {"z": 99}, emitted_at=t1 + timedelta(seconds=50))  # an older window: not pushed
    view.apply_result(ResultRecord.model_validate(late))
    view.apply_result(
        ResultRecord.model_validate(result("top", t1, {"a": 5, "b": 7, "c": 1}, emitted_at=t1 + timedelta(seconds=40)))
    )
    view.apply_result(ResultRecord.model_validate(result("top", t1 + timedelta(minutes=1), {"d": 2})))
    events = await asyncio.wait_for(reader, 10)
    assert [name for name, _ in events] == ["board", "board", "board"]
    assert [[e["key"] for e in data["entries"]] for _, data in events] == [["a"], ["b", "a"], ["d"]]
    assert events[1][1]["total_entries"] == 3


async def test_alert_stream_pushes_new_alerts(view: ResultsView, served: str) -> None:
    started = asyncio.Event()
    reader = asyncio.create_task(read_events(served, "/alerts/stream", 2, started))
    await started.wait()
    for key in ("dev-1", "dev-2"):
        view.apply_alert(AlertRecord.model_validate(alert("hot", key, T0)))
    events = await asyncio.wait_for(reader, 10)
    assert [(name, data["key"]) for name, data in events] == [("alert", "dev-1"), ("alert", "dev-2")]


async def test_unknown_board_stream_is_404(served: str) -> None:
    async with httpx.AsyncClient(base_url=served) as http:
        response = await http.get("/leaderboards/none/stream")
    assert response.status_code == 404
