"""S3 on the edge port: each request is forwarded to the object store (MinIO), signed again with the store's keys,
and streamed both ways (an upload is sent as it arrives, a download as it is read), so multipart uploads and large
downloads cost the edge a few buffers, not the object.

What is not forwarded: the store's own administration, health and metrics APIs (``/minio/...``) and STS-style
``Action=`` calls, which would otherwise run with the store's root keys for any caller.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit
from xml.sax.saxutils import escape

import httpx

from emulator.edge.s3_signing import (
    SignatureMismatch,
    presign_expired,
    sign_for_store,
    verify_client,
)

log = logging.getLogger(__name__)

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

_RESPONSE_HOP_HEADERS = frozenset({b"connection", b"keep-alive", b"transfer-encoding", b"trailer", b"upgrade"})


class S3Store:
    """Where S3 requests go: the store's endpoint and its keys."""

    def __init__(self, endpoint_url: str, access_key_id: str, secret_access_key: str, region: str) -> None:
        parts = urlsplit(endpoint_url.rstrip("/"))
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError(f"S3 endpoint {endpoint_url!r} is not an http(s) URL")
        self.endpoint_url = f"{parts.scheme}://{parts.netloc}"
        self.host = parts.netloc
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key
        self.region = region


class ClientCheck:
    """The edge's own key pair, when clients' signatures are checked (``verify_signatures``)."""

    def __init__(self, access_key_id: str, secret_access_key: str) -> None:
        self.access_key_id = access_key_id
        self.secret_access_key = secret_access_key


def s3_error(status: int, code: str, message: str, resource: str = "") -> tuple[int, bytes]:
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        f"<Error><Code>{escape(code)}</Code><Message>{escape(message)}</Message>"
        f"<Resource>{escape(resource)}</Resource></Error>"
    )
    return status, body.encode()


def refused_path(method: str, decoded_path: str, query: str) -> str | None:
    """Why a request must not reach the store, or ``None``: the store's own APIs and STS calls."""
    first = decoded_path.lstrip("/").split("/", 1)[0]
    if first == "minio":
        return "The object store's administration, health and metrics APIs are not served on this endpoint."
    if decoded_path.strip("/") == "" and ("Action=" in query or method not in ("GET", "HEAD")):
        return "Only ListBuckets is served at the root of the S3 endpoint."
    return None


def virtual_host_bucket(host_header: str) -> str | None:
    """``bucket`` of a virtual-hosted request to ``bucket.localhost[:port]``; ``None`` for path-style requests."""
    hostname = host_header.rsplit(":", 1)[0] if not host_header.endswith("]") else host_header
    if hostname.endswith(".localhost") and len(hostname) > len(".localhost"):
        return hostname[: -len(".localhost")]
    return None


class S3Proxy:
    """An ASGI handler for S3 requests; :meth:`start` and :meth:`stop` own its HTTP connection pool."""

    def __init__(self, store: S3Store, check: ClientCheck | None = None, timeout_s: float = 60.0) -> None:
        self.store = store
        self._check = check
        self._timeout = httpx.Timeout(timeout_s, connect=5.0, pool=30.0)
        self._client: httpx.AsyncClient | None = None

    async def start(self) -> None:
        # trust_env=False: a user's HTTP(S)_PROXY must not send loopback traffic to the store elsewhere.
        self._client = httpx.AsyncClient(
            timeout=self._timeout,
            trust_env=False,
            follow_redirects=False,
            limits=httpx.Limits(max_connections=64, max_keepalive_connections=16),
        )

    async def stop(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def client(self) -> httpx.AsyncClient:
        if self._client is None:
            raise RuntimeError("the S3 proxy is not started")
        return self._client

    async def live(self) -> bool:
        """Whether the store answers its liveness probe (for the health endpoint)."""
        try:
            response = await self.client.get(f"{self.store.endpoint_url}/minio/health/live", timeout=2.0)
        except httpx.HTTPError:
            return False
        return response.status_code == 200

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        method: str = scope["method"]
        raw_path = scope.get("raw_path") or scope["path"].encode()
        path = raw_path.decode("latin-1").split("?", 1)[0]
        query = scope.get("query_string", b"").decode("latin-1")
        headers = [(k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]]
        host_header = next((v for k, v in headers if k == "host"), "")
        now = datetime.now(UTC)
        if self._check is not None:
            try:
                verify_client(
                    method, path, query, headers, self._check.access_key_id, self._check.secret_access_key, now
                )
            except SignatureMismatch as exc:
                await _answer(send, *s3_error(403, exc.code, str(exc), path))
                return
        elif presign_expired(query, now):
            await _answer(send, *s3_error(403, "AccessDenied", "Request has expired", path))
            return
        bucket = virtual_host_bucket(host_header)
        if bucket is not None:
            path = f"/{bucket}{path}"
        refusal = refused_path(method, unquote(path), query)
        if refusal is not None:
            await _answer(send, *s3_error(403, "AccessDenied", refusal, path))
            return
        store = self.store
        signed = sign_for_store(
            method, path, query, headers, store.host, store.access_key_id, store.secret_access_key, store.region, now
        )
        url = f"{store.endpoint_url}{path}" + (f"?{signed.query}" if signed.query else "")
        has_body = any(k in ("content-length", "transfer-encoding") for k, _ in headers)
        request = self.client.build_request(
            method,
            url,
            headers=signed.headers,
            content=_request_body(receive) if has_body else None,
        )
        try:
            response = await self.client.send(request, stream=True)
        except httpx.HTTPError as exc:
            log.warning("S3 request to %s failed: %s", store.endpoint_url, exc)
            message = f"The object store at {store.endpoint_url} does not answer."
            await _answer(send, *s3_error(503, "ServiceUnavailable", message, path))
            return
        try:
            await send(
                {
                    "type": "http.response.start",
                    "status": response.status_code,
                    "headers": [
                        (k.lower(), v) for k, v in response.headers.raw if k.lower() not in _RESPONSE_HOP_HEADERS
                    ],
                }
            )
            async for chunk in response.aiter_raw():
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        except httpx.HTTPError as exc:
            # The status line is out: all that is left is to cut the response short, which the client detects.
            log.warning("S3 response from %s broke off: %s", store.endpoint_url, exc)
            raise
        finally:
            await response.aclose()


async def _request_body(receive: Receive) -> AsyncIterator[bytes]:
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ConnectionAbortedError("the client went away during the upload")
        chunk: bytes = message.get("body", b"")
        if chunk:
            yield chunk
        if not message.get("more_body", False):
            return


async def _answer(send: Send, status: int, body: bytes) -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [(b"content-type", b"application/xml"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})
