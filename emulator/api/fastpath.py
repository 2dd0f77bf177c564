"""The hot path of the API, ``GET /leaderboards/{name}`` with plain parameters, answered before FastAPI's routing,
dependency solving and parameter validation (which cost several times the answer itself, see BENCHMARKS.md).

It serves the same cached bytes the FastAPI route serves, and only for requests whose meaning is unambiguous: a
valid name of an existing board, ``window`` absent, ``current`` or (when such a window exists) ``last``, ``limit``
absent or a plain integer in range, and no other parameter. Everything else (unknown boards, instants, bad values,
extra parameters) goes on to the FastAPI route, which owns the errors and the OpenAPI schema.
"""

from __future__ import annotations

import re

from fastapi import FastAPI
from starlette.datastructures import State
from starlette.types import ASGIApp, Receive, Scope, Send

from emulator.api.models import DEFAULT_ENTRIES, MAX_ENTRIES, NAME_PATTERN
from emulator.api.view import BoardWindow, ResultsView

PREFIX = "/leaderboards/"
_NAME = re.compile(NAME_PATTERN)


def _parse(query: bytes) -> tuple[bytes, int] | None:
    """``(window, limit)`` of a query string of only ``window`` and ``limit``, each at most once; else ``None``."""
    window, limit = b"current", DEFAULT_ENTRIES
    seen: set[bytes] = set()
    for part in query.split(b"&") if query else ():
        key, _, value = part.partition(b"=")
        if key in seen:
            return None
        seen.add(key)
        if key == b"window" and value in (b"current", b"last"):
            window = value
        elif key == b"limit" and value.isdigit() and len(value) <= 4 and value[:1] != b"0":
            limit = int(value)
            if limit > MAX_ENTRIES:
                return None
        else:
            return None
    return window, limit


def answer(view: ResultsView, path: str, query: bytes) -> bytes | None:
    """The JSON the route would return for this request, or ``None`` to let the route handle it."""
    name = path[len(PREFIX) :]
    if not _NAME.match(name):
        return None
    board = view.board(name)
    parsed = _parse(query)
    if board is None or parsed is None:
        return None
    window, limit = parsed
    chosen: BoardWindow | None = board.current() if window == b"current" else board.last()
    return chosen.answer_json(limit) if chosen is not None else None


class LeaderboardFastPath:
    """ASGI middleware serving :func:`answer` when it has one.

    Added inside the FastAPI app it finds the view on ``scope["app"]``; given ``state`` (the app's), it can wrap the
    whole FastAPI app instead (:func:`in_front_of`), which also skips FastAPI's own middleware stack.
    """

    def __init__(self, app: ASGIApp, state: State | None = None) -> None:
        self.app = app
        self._state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "GET" and scope["path"].startswith(PREFIX):
            state = self._state if self._state is not None else scope["app"].state
            resources = getattr(state, "resources", None)
            body = answer(resources.view, scope["path"], scope["query_string"]) if resources is not None else None
            if body is not None:
                headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
                await send({"type": "http.response.start", "status": 200, "headers": headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self.app(scope, receive, send)


def in_front_of(app: FastAPI) -> LeaderboardFastPath:
    """``app`` behind the fast path, for the server: FastAPI's error, telemetry and body-limit middleware cost more
    per request than the answer itself, and the fast path needs none of them (it sends prepared bytes)."""
    return LeaderboardFastPath(app, state=app.state)
