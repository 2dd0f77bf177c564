"""Server-sent events over a plain streaming response: one ``event:``/``data:`` frame per change, and a comment
line every so often so proxies and browsers keep an idle stream open."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

from starlette.responses import StreamingResponse

from emulator.api.view import CLOSED, Event, Subscription

KEEPALIVE_S = 15.0
HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}


def event_schema(event: str, model: str, description: str) -> dict[str, Any]:
    """The OpenAPI ``responses`` entry of a stream whose events carry a ``model`` (by component name) as JSON data.

    The ``schema`` of ``text/event-stream`` describes one event (OpenAPI 3.1, and 3.2's ``itemSchema``), with the
    JSON payload described through ``contentMediaType``/``contentSchema``.
    """
    one_event = {
        "type": "object",
        "properties": {
            "event": {"type": "string", "enum": [event]},
            "data": {
                "type": "string",
                "contentMediaType": "application/json",
                "contentSchema": {"$ref": f"#/components/schemas/{model}"},
            },
        },
        "required": ["data"],
    }
    return {"description": description, "content": {"text/event-stream": {"itemSchema": one_event}}}


def frame(event: str, data: bytes) -> bytes:
    """One SSE frame; ``data`` is compact JSON, so it holds no newline."""
    return b"event: " + event.encode() + b"\ndata: " + data + b"\n\n"


async def relay(
    subscription: Subscription, first: list[bytes], render: Callable[[Event], bytes | None]
) -> AsyncIterator[bytes]:
    """``first`` frames, then one frame per event of ``subscription`` until the view closes."""
    yield b"retry: 2000\n\n"
    for item in first:
        yield item
    while True:
        event = await subscription.next(KEEPALIVE_S)
        if event is None:
            yield b": keep-alive\n\n"
            continue
        if event is CLOSED:
            return
        rendered = render(event)
        if rendered is not None:
            yield rendered


def event_stream(body: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)
