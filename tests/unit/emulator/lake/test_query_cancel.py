"""A query stopped at once (before its DuckDB connection exists) still stops: the stop is not lost in the window
between the worker thread starting and the connection being made."""

from __future__ import annotations

import asyncio
import contextlib
import threading
import time
from typing import Any

import pytest
from pyarrow import fs

from emulator.athena import engine
from emulator.athena import runner as runner_module
from emulator.athena.runner import QueryRunner

pytestmark = pytest.mark.unit

#: Minutes of work for DuckDB unless interrupted.
ENDLESS = "SELECT count(*) FROM range(100000000000) a"


class NoTables:
    def resolve(self, database: str, table: str) -> None:
        return None

    def database_names(self) -> list[str]:
        return []

    def table_names(self, database: str) -> list[str] | None:
        return None

    async def register_table(self, table: object, parameters: dict[str, str]) -> None:
        raise AssertionError("not called")


@pytest.mark.parametrize("stop_during", ["connect", "query"])
async def test_a_stopped_query_stops_whenever_the_stop_arrives(
    stop_during: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Opening the tables' footers takes a while on a busy machine; a stop may come meanwhile.
    connecting = threading.Event()

    def slow_connect(*args: Any) -> Any:
        connecting.set()
        time.sleep(1.0)
        return engine.connect(*args)

    monkeypatch.setattr(runner_module, "connect", slow_connect)
    runner = QueryRunner(NoTables(), fs.LocalFileSystem(), "512MB", 1)
    task = asyncio.ensure_future(runner._execute(fs.LocalFileSystem(), ENDLESS, "kemu", []))
    await asyncio.to_thread(connecting.wait, 30)
    if stop_during == "query":
        await asyncio.sleep(1.5)
    task.cancel()
    # A liveness bound, not a speed: without the fix the query runs to its end, minutes later.
    with contextlib.suppress(asyncio.CancelledError):
        await asyncio.wait_for(task, 60)
    assert task.cancelled()
