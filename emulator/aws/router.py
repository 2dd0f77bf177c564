"""The one ``X-Amz-Target`` router of the endpoint: a minimal ASGI app with one route, ``POST /``, for every AWS JSON
service served on it (Kinesis, Firehose, and the next ones).

Kept below any web framework on purpose: every PutRecords call goes through here, and a framework's routing and
validation would only add work on the hottest path. A service is an :class:`AwsService`: its target prefix, signing
name, operations (operation → request shape and handler method) and the real operations it answers with
``UnsupportedOperationException``, plus a factory for its handler object. The router owns the handlers through the
ASGI lifespan (made and started on startup, in order; stopped on shutdown, in reverse), so a service whose handler
needs the running event loop (aiokafka clients) gets it. Adding a service touches no other service.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import operator
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from emulator.aws.errors import (
    AccessDeniedException,
    AwsError,
    InternalFailure,
    SerializationException,
    UnknownOperationException,
    UnsupportedOperationException,
)
from emulator.aws.eventstream import CONTENT_TYPE as EVENT_STREAM
from emulator.aws.eventstream import EventStream
from emulator.aws.protocol import JSON, Codec, codec_for
from emulator.aws.shapes import Wire
from emulator.aws.sigv4 import SignatureVerifier
from emulator.aws.validation import OperationValidator

log = logging.getLogger(__name__)

#: A 5 MiB PutRecords in base64 JSON plus its envelope; larger bodies are refused before parsing.
MAX_BODY_BYTES = 8 * 1024 * 1024

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class RequestShape(Protocol):
    """A typed request: ``parse`` reads it from a decoded body, raising the AWS error of the first bad member."""

    @classmethod
    def parse(cls, body: dict[str, Any], wire: Wire) -> Any: ...


class Handler(Protocol):
    """A service's operations object: one async method per operation, and a lifecycle."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


@dataclass(frozen=True)
class AwsService:
    """One AWS service as the router serves it."""

    #: How the service is named in messages and in the health answer (``Kinesis``, ``Firehose``).
    title: str
    #: The ``X-Amz-Target`` prefix of its operations, with the dot (``Kinesis_20131202.``).
    target_prefix: str
    #: The service its SigV4 credential scope must name (``kinesis``, ``firehose``).
    signing_name: str
    #: Operation → (request shape, handler method name; dotted, ``fanout.register``, for a method of a component).
    operations: Mapping[str, tuple[type[RequestShape], str]]
    #: Real operations of the service that kemu does not implement (answered so, not as unknown).
    unsupported: frozenset[str]
    #: Makes the handler; called on ASGI startup, inside the running loop.
    factory: Callable[[], Handler]
    #: Operation → AWS's type and constraint checks from the model, run before the request shape parses the body.
    validators: Mapping[str, OperationValidator] = field(default_factory=dict)
    #: Operations AWS answers with an empty body (no output shape in the model).
    empty_outputs: frozenset[str] = frozenset()


@dataclass
class _Served:
    service: AwsService
    handler: Handler | None = None


class AwsRouter:
    """ASGI application serving ``services`` on one endpoint; ``verifier`` checks signatures when given."""

    def __init__(self, services: Sequence[AwsService], verifier: SignatureVerifier | None = None) -> None:
        self._served = [_Served(service) for service in services]
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        headers = {name.decode("latin-1").lower(): value.decode("latin-1") for name, value in scope["headers"]}
        codec: Codec = codec_for(headers.get("content-type", "")) or JSON
        cors = _cors_headers(headers)
        if scope["method"] == "OPTIONS" and cors:
            # A browser's preflight: answered for any origin, as AWS answers it, before any signature check.
            await _send(send, 200, b"", [*cors, *_preflight_headers(headers)])
            return
        status, body = await self._handle(scope, receive, headers, codec)
        if isinstance(body, EventStream):
            await _send_events(body, codec, str(uuid.uuid4()), receive, send)
            return
        content_type = codec.content_type.encode()
        if status == AccessDeniedException.status and body.startswith(b"<"):
            content_type = b"application/xml"
        await _send(send, status, body, [(b"content-type", content_type), *cors])

    async def _handle(
        self, scope: Scope, receive: Receive, headers: dict[str, str], codec: Codec
    ) -> tuple[int, bytes | EventStream]:
        if scope["method"] != "POST":
            # AWS answers any other method before reading the target, in its XML error shape.
            error = AccessDeniedException("Unable to determine service/operation name to be authorized")
            return error.status, error.xml()
        try:
            if codec_for(headers.get("content-type", "")) is None:
                raise SerializationException(
                    "Content-Type must be application/x-amz-json-1.1 or application/x-amz-cbor-1.1."
                )
            body = await read_body(receive)
            target = headers.get("x-amz-target", "")
            served = self._served_for(target)
            if self._verifier is not None:
                query = scope.get("query_string", b"").decode("latin-1")
                path = scope.get("raw_path", b"/").decode("latin-1").split("?")[0]
                # A target of no service here is signed for Kinesis, the endpoint's first service, as before.
                signing = (served or self._served[0]).service.signing_name
                self._verifier.verify("POST", path, query, headers, body, signing)
            if served is None:
                raise UnknownOperationException(f"Unknown operation {target!r}.")
            shape, handler, method = self._route(target, served)
            decoded = codec.decode(body)
            operation = target[len(served.service.target_prefix) :]
            validator = served.service.validators.get(operation)
            if validator is not None:
                validator.check(decoded, codec)
            request = shape.parse(decoded, codec)
            response = await operator.attrgetter(method)(handler)(request)
            if isinstance(response, EventStream):
                return 200, response
            if not response and operation in served.service.empty_outputs:
                return 200, b""
            return 200, codec.encode(response)
        except AwsError as error:
            return error.status, codec.encode(error.body())
        except Exception:
            log.exception("unexpected error serving %s", headers.get("x-amz-target"))
            return 500, codec.encode(InternalFailure("Internal service failure.").body())

    def handler(self, title: str) -> Handler:
        """The running handler of the service called ``title`` (made on ASGI startup)."""
        for served in self._served:
            if served.service.title == title:
                if served.handler is None:
                    raise InternalFailure(f"The {title} API is not started.")
                return served.handler
        raise KeyError(title)

    def _served_for(self, target: str) -> _Served | None:
        for served in self._served:
            if target.startswith(served.service.target_prefix):
                return served
        return None

    def _route(self, target: str, served: _Served) -> tuple[type[RequestShape], Handler, str]:
        service = served.service
        operation = target[len(service.target_prefix) :]
        if operation in service.operations:
            shape, method = service.operations[operation]
            if served.handler is None:
                raise InternalFailure(f"The {service.title} API is not started.")
            return shape, served.handler, method
        if operation in service.unsupported:
            raise UnsupportedOperationException(
                f"{service.title} operation {operation} is not supported by this emulator (kemu). Supported: "
                f"{', '.join(sorted(service.operations))}."
            )
        raise UnknownOperationException(f"Unknown operation {target!r}.")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    for served in self._served:
                        served.handler = served.service.factory()
                        await served.handler.start()
                except Exception as exc:
                    log.exception("the AWS APIs could not connect to Kafka")
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                for served in reversed(self._served):
                    if served.handler is not None:
                        await served.handler.stop()
                await send({"type": "lifespan.shutdown.complete"})
                return


#: What a browser may read of a response (AWS's list).
_EXPOSED = b"x-amzn-RequestId,x-amzn-ErrorType,x-amz-request-id,x-amz-id-2,x-amzn-ErrorMessage,Date"
#: How long a browser may cache a preflight answer (AWS's 2 days).
_PREFLIGHT_MAX_AGE = b"172800"


def _cors_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    """CORS headers for a request from a browser (one with an ``Origin``): AWS allows every origin, since the
    signature, not the origin, authorizes a call."""
    if "origin" not in headers:
        return []
    return [(b"access-control-allow-origin", b"*"), (b"access-control-expose-headers", _EXPOSED)]


def _preflight_headers(headers: Mapping[str, str]) -> list[tuple[bytes, bytes]]:
    answer = [(b"access-control-max-age", _PREFLIGHT_MAX_AGE)]
    for asked, allowed in (
        ("access-control-request-headers", b"access-control-allow-headers"),
        ("access-control-request-method", b"access-control-allow-methods"),
    ):
        if asked in headers:
            answer.append((allowed, headers[asked].encode("latin-1")))
    return answer


async def _send(send: Send, status: int, body: bytes, headers: list[tuple[bytes, bytes]]) -> None:
    response_headers = [
        *headers,
        (b"content-length", str(len(body)).encode()),
        (b"x-amzn-requestid", str(uuid.uuid4()).encode()),
    ]
    await send({"type": "http.response.start", "status": status, "headers": response_headers})
    await send({"type": "http.response.body", "body": body})


async def _send_events(stream: EventStream, codec: Codec, request_id: str, receive: Receive, send: Send) -> None:
    """Send ``stream``'s messages as the response body until it ends or the client goes away, whichever is first:
    a subscription must not outlive its connection (a new one for the same shard would be refused meanwhile)."""
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", EVENT_STREAM.encode()), (b"x-amzn-requestid", request_id.encode())],
        }
    )

    async def pump() -> None:
        async for message in stream.messages(codec.encode, codec.content_type):
            await send({"type": "http.response.body", "body": message, "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})

    async def gone() -> None:
        while (await receive())["type"] != "http.disconnect":
            pass

    pumping, watching = asyncio.ensure_future(pump()), asyncio.ensure_future(gone())
    try:
        await asyncio.wait({pumping, watching}, return_when=asyncio.FIRST_COMPLETED)
        if pumping.done() and pumping.exception() is not None:
            log.error("an event stream ended with an error", exc_info=pumping.exception())
    finally:
        for task in (pumping, watching):
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        stream.close()


async def read_body(receive: Receive) -> bytes:
    """A request's whole body from its ASGI messages, refused with a SerializationException past ``MAX_BODY_BYTES``
    (every AWS JSON API on the endpoint takes at most that much)."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY_BYTES:
            raise SerializationException(f"The request body is larger than {MAX_BODY_BYTES} bytes.")
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
