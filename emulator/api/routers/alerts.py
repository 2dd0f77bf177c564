"""``/alerts``: what the analytics engine's alerting queries raised, newest first, and a live stream of them."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query
from fastapi.responses import StreamingResponse

from emulator.api.deps import View
from emulator.api.models import Alert, AlertList, parse_instant
from emulator.api.sse import event_schema, event_stream, frame, relay
from emulator.api.view import Event

router = APIRouter(prefix="/alerts", tags=["alerts"])


@router.get("", response_model=AlertList, summary="Recent alerts, newest first")
async def list_alerts(
    view: View,
    since: Annotated[
        str | None,
        Query(
            description="Only alerts emitted after this RFC 3339 instant.",
            json_schema_extra={"format": "date-time"},
        ),
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AlertList:
    try:
        after = parse_instant(since) if since is not None else None
    except ValueError as exc:
        raise HTTPException(
            422, detail=[{"loc": ["query", "since"], "msg": str(exc), "type": "value_error", "input": since}]
        ) from None
    return AlertList(alerts=view.alerts(after, limit))


@router.get(
    "/stream",
    response_class=StreamingResponse,
    responses={
        200: event_schema(
            "alert", "Alert", "Server-sent events: `alert` with an Alert as data, for each alert from now on."
        )
    },
    summary="Live alerts (server-sent events)",
)
async def stream_alerts(view: View) -> StreamingResponse:
    def render(event: Event) -> bytes | None:
        return frame("alert", event.model_dump_json().encode()) if isinstance(event, Alert) else None

    async def body() -> AsyncIterator[bytes]:
        with view.alert_subscription() as subscription:
            async for chunk in relay(subscription, [], render):
                yield chunk

    return event_stream(body())
