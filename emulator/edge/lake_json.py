"""Glue and Athena on the endpoint's one ``X-Amz-Target`` router, and Athena's REST-JSON binding in front of it.

Glue's and Athena's operations read their members from the decoded body themselves (their APIs map each operation
to a method with typed arguments), so the router hands them the operation and the body: each operation gets a
request shape that only checks the body is a JSON object. Athena's REST-JSON binding (botocore's current model:
``POST /query-executions``, ``GET /query-executions/{id}``...) never reaches the router, which serves ``POST /``
with a target only; :class:`AthenaRest` answers it with the same methods, the router everything else.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any, Protocol

from emulator.aws.errors import AwsError, InternalFailure, SerializationException
from emulator.aws.protocol import JSON
from emulator.aws.router import AwsService, Receive, RequestShape, Scope, Send, read_body
from emulator.aws.shapes import Wire
from emulator.aws.sigv4 import SignatureVerifier

log = logging.getLogger(__name__)


class JsonApi(Protocol):
    """Glue's or Athena's API object: its target prefix and signing name, operations, lifecycle and one call per
    request with the decoded body."""

    prefix: str
    signing_name: str

    def operations(self) -> frozenset[str]: ...

    async def start(self) -> None: ...

    async def stop(self) -> None: ...

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]: ...


@dataclass(frozen=True)
class RawCall:
    """One operation and its decoded body."""

    operation: str
    body: dict[str, Any]


def _shape(operation: str) -> type[RequestShape]:
    class Raw:
        @classmethod
        def parse(cls, body: dict[str, Any], wire: Wire) -> RawCall:
            if not isinstance(body, dict):
                raise SerializationException("The request body must be a JSON object.")
            return RawCall(operation, body)

    Raw.__name__ = f"{operation}Input"
    return Raw


class _Handler:
    """The router's handler over a :class:`JsonApi`: every operation is ``serve``."""

    def __init__(self, api: JsonApi) -> None:
        self._api = api

    async def start(self) -> None:
        await self._api.start()

    async def stop(self) -> None:
        await self._api.stop()

    async def serve(self, call: RawCall) -> dict[str, Any]:
        return await self._api.call(call.operation, call.body)


def json_service(title: str, api: JsonApi) -> AwsService:
    """``api`` as one service of the router (its handler is ``api`` itself, made before the loop runs)."""
    operations = {operation: (_shape(operation), "serve") for operation in api.operations()}
    return AwsService(title, api.prefix, api.signing_name, operations, frozenset(), lambda: _Handler(api))


class RestApi(Protocol):
    signing_name: str

    def rest_operation(self, method: str, path: str, query: str) -> tuple[str, dict[str, Any]] | None: ...

    async def call(self, operation: str, body: dict[str, Any]) -> dict[str, Any]: ...


class AthenaRest:
    """ASGI app: requests of ``api``'s REST-JSON binding (no ``X-Amz-Target``) are answered here; the others, and
    the lifespan, go to ``router``."""

    def __init__(self, router: Any, api: RestApi, verifier: SignatureVerifier | None) -> None:
        self._router = router
        self._api = api
        self._verifier = verifier

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
            query = scope.get("query_string", b"").decode("latin-1")
            found = (
                None if "x-amz-target" in headers else self._api.rest_operation(scope["method"], scope["path"], query)
            )
            if found is not None:
                status, body = await self._serve(scope, receive, headers, query, *found)
                response_headers = [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ]
                await send({"type": "http.response.start", "status": status, "headers": response_headers})
                await send({"type": "http.response.body", "body": body})
                return
        await self._router(scope, receive, send)

    async def _serve(
        self,
        scope: Scope,
        receive: Receive,
        headers: dict[str, str],
        query: str,
        operation: str,
        members: dict[str, Any],
    ) -> tuple[int, bytes]:
        try:
            body = await read_body(receive)
            if self._verifier is not None:
                path = scope.get("raw_path", b"/").decode("latin-1").split("?")[0]
                self._verifier.verify(scope["method"], path, query, headers, body, self._api.signing_name)
            decoded = JSON.decode(body) if body.strip() else {}
            if not isinstance(decoded, dict):
                raise SerializationException("The request body must be a JSON object.")
            return 200, JSON.encode(await self._api.call(operation, {**decoded, **members}))
        except AwsError as error:
            return error.status, JSON.encode(error.body())
        except Exception:
            log.exception("unexpected error serving Athena's %s", operation)
            return 500, JSON.encode(InternalFailure("Internal service failure.").body())
