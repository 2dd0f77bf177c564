"""The edge ASGI app: health, S3 and the AWS JSON APIs (Kinesis, Firehose) on one port, as LocalStack users expect.

Routing is :func:`emulator.edge.routing.route_of`. The Kinesis/Firehose app keeps its own lifespan (it connects to
Kafka on startup); the edge passes that through and starts its S3 connection pool beside it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from emulator.edge.routing import Route, route_of
from emulator.edge.s3_proxy import S3Proxy

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

RUNNING, ERROR, DISABLED, STARTING = "running", "error", "disabled", "starting"


class EdgeApp:
    """Routes each request on the edge port; ``s3`` is ``None`` when no object store is configured."""

    def __init__(self, aws_json: ASGIApp, s3: S3Proxy | None, version: str) -> None:
        self._aws_json = aws_json
        self._s3 = s3
        self._version = version
        self._json_state = STARTING

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(scope, receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = scope.get("query_string", b"").decode("latin-1")
        route = route_of(scope["method"], scope["path"], headers, query)
        if route is Route.HEALTH:
            await self._health(scope, send)
        elif route is Route.S3 and self._s3 is not None:
            await self._s3(scope, receive, send)
        elif route is Route.S3:
            await _reply(
                send,
                503,
                b'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>ServiceUnavailable</Code><Message>No object '
                b"store is configured for this endpoint: start kemu with KEMU_S3__* set or with `kemu services up` "
                b"running.</Message></Error>",
                b"application/xml",
            )
        else:
            await self._aws_json(scope, receive, send)

    async def states(self) -> dict[str, str]:
        """Each service on this endpoint and its state: ``running``, ``starting``, ``error`` or ``disabled``."""
        s3 = DISABLED if self._s3 is None else (RUNNING if await self._s3.live() else ERROR)
        json = self._json_state
        return {"kinesis": json, "firehose": json, "glue": json, "athena": json, "s3": s3}

    async def _health(self, scope: Scope, send: Send) -> None:
        states = await self.states()
        healthy = all(state in (RUNNING, DISABLED) for state in states.values())
        body = orjson.dumps({"services": states, "edition": "kemu", "version": self._version})
        await _reply(send, 200 if healthy else 503, b"" if scope["method"] == "HEAD" else body, b"application/json")

    async def _lifespan(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Start the S3 pool, then hand the lifespan to the JSON APIs' app, watching how its startup ends."""

        async def watched_send(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "lifespan.startup.complete":
                self._json_state = RUNNING
            elif kind == "lifespan.startup.failed":
                self._json_state = ERROR
                if self._s3 is not None:
                    await self._s3.stop()
            elif kind == "lifespan.shutdown.complete" and self._s3 is not None:
                await self._s3.stop()
            await send(message)

        if self._s3 is not None:
            await self._s3.start()
        await self._aws_json(scope, receive, watched_send)


async def _reply(send: Send, status: int, body: bytes, content_type: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", content_type), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
