"""``/leaderboards``: the boards the analytics engine computes, per window, and a live stream of each."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Path, Query
from fastapi.responses import Response, StreamingResponse

from emulator.api.deps import View
from emulator.api.models import (
    DEFAULT_ENTRIES,
    MAX_ENTRIES,
    NAME_PATTERN,
    ErrorMessage,
    LeaderboardList,
    LeaderboardWindow,
    parse_instant,
)
from emulator.api.sse import event_schema, event_stream, frame, relay
from emulator.api.view import Board, BoardWindow, Event

router = APIRouter(prefix="/leaderboards", tags=["leaderboards"])

BoardName = Annotated[
    str,
    Path(pattern=NAME_PATTERN, description="Name of the analytics query behind the board.", examples=["top-players"]),
]
Limit = Annotated[int, Query(ge=1, le=MAX_ENTRIES, description="Entries to return, best first.")]
WindowParam = Annotated[
    str,
    Query(
        description="`current` (newest window), `last` (newest final window, else the one before current) or an "
        "RFC 3339 instant such as 2026-11-27T08:00:30Z (the window holding it; with overlapping windows, the one "
        "that started last).",
        # Exact in the schema (a keyword or a real date-time), checked strictly in resolve_window.
        json_schema_extra={"anyOf": [{"enum": ["current", "last"]}, {"format": "date-time"}]},
    ),
]
NOT_FOUND: dict[int | str, dict[str, Any]] = {
    404: {"model": ErrorMessage, "description": "No such board, or no window for that instant."}
}


def _board_or_404(view: View, name: str) -> Board:
    board = view.board(name)
    if board is None:
        raise HTTPException(404, detail=f"no leaderboard named {name!r}; GET /leaderboards lists them")
    return board


def _invalid_window(value: str, reason: str) -> HTTPException:
    return HTTPException(
        422,
        detail=[
            {
                "loc": ["query", "window"],
                "msg": f"must be 'current', 'last' or an RFC 3339 instant such as 2026-11-27T08:00:00Z: {reason}",
                "type": "value_error",
                "input": value,
            }
        ],
    )


def resolve_window(board: Board, window: str) -> BoardWindow:
    """The window a ``window`` parameter names; 404 when there is none, 422 when the parameter is malformed."""
    if window == "current":
        return board.current()
    if window == "last":
        found = board.last()
        if found is None:
            raise HTTPException(404, detail=f"board {board.name!r} has no window before the current one yet")
        return found
    try:
        instant = parse_instant(window)
    except ValueError as exc:
        raise _invalid_window(window, str(exc)) from None
    found = board.at(instant)
    if found is None:
        raise HTTPException(404, detail=f"board {board.name!r} has no kept window holding {window}")
    return found


@router.get("", response_model=LeaderboardList, summary="List the boards")
async def list_leaderboards(view: View) -> LeaderboardList:
    return LeaderboardList(leaderboards=[board.summary() for board in view.boards()])


@router.get("/{name}", response_model=LeaderboardWindow, responses=NOT_FOUND, summary="One window of a board")
async def get_leaderboard(
    view: View, name: BoardName, window: WindowParam = "current", limit: Limit = DEFAULT_ENTRIES
) -> Response:
    chosen = resolve_window(_board_or_404(view, name), window)
    # The JSON is cached per window and limit: the hot path serialises nothing.
    return Response(chosen.answer_json(limit), media_type="application/json")


@router.get(
    "/{name}/stream",
    response_class=StreamingResponse,
    responses={
        **NOT_FOUND,
        200: event_schema(
            "board",
            "LeaderboardWindow",
            "Server-sent events: `board` with a LeaderboardWindow as data, first the current window, then each change "
            "of the current window.",
        ),
    },
    summary="Live changes of a board (server-sent events)",
)
async def stream_leaderboard(view: View, name: BoardName, limit: Limit = DEFAULT_ENTRIES) -> StreamingResponse:
    board = _board_or_404(view, name)

    def render(event: Event) -> bytes | None:
        return frame("board", event.answer_json(limit)) if isinstance(event, BoardWindow) else None

    async def body() -> AsyncIterator[bytes]:
        with view.board_subscription(name) as subscription:
            first = [frame("board", board.current().answer_json(limit))]
            async for chunk in relay(subscription, first, render):
                yield chunk

    return event_stream(body())
