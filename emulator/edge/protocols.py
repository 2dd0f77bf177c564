"""Which HTTP a connection to the edge port speaks: HTTP/1.1 and HTTP/2 on the same port, as AWS serves Kinesis.

uvicorn parses both: httptools for HTTP/1.1 (the PutRecords fast path, unchanged) and uvicorn's own HTTP/2 protocol
(on zttp, a sans-IO HTTP/2 implementation) for h2. This module only picks one per connection, before any request is
parsed:

- over TLS, by the ALPN result (``h2`` or ``http/1.1``);
- in cleartext, by the HTTP/2 connection preface (prior knowledge: what the AWS SDKs for JavaScript v3 and Java v2
  send to an ``http://`` endpoint), or by an HTTP/1.1 request asking ``Upgrade: h2c`` (RFC 7540 section 3.2, what
  ``curl --http2`` sends), which is answered ``101 Switching Protocols`` and served as HTTP/2 stream 1;
- anything else is HTTP/1.1, handed over with the bytes already read.

uvicorn's own dispatcher for HTTP/2 serves HTTP/1.1 with zttp instead of httptools and has no h2c upgrade, hence this
one. It builds on uvicorn's protocol classes (their constructor and, for the upgrade, the HTTP/2 protocol's stream
table), which is why uvicorn is pinned to one minor version.
"""

from __future__ import annotations

import asyncio
import re
from base64 import urlsafe_b64decode
from dataclasses import dataclass
from typing import Any, ClassVar

import zttp
from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.http.zttp_h2_impl import ZttpH2Protocol
from uvicorn.protocols.utils import is_ssl
from uvicorn.server import ServerState

#: The client connection preface of HTTP/2 (RFC 9113 section 3.4).
PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
#: Longest request head read while deciding; a longer one goes to HTTP/1.1, which answers it as it does any other.
MAX_HEAD_BYTES = 64 * 1024
#: Largest body of an h2c upgrade request (the router's own body limit); a larger one is served as HTTP/1.1.
MAX_UPGRADE_BODY_BYTES = 8 * 1024 * 1024
#: Headers of the HTTP/1.1 request that HTTP/2 forbids or that the upgrade consumed (RFC 9113 section 8.2.2).
_NOT_REPLAYED = frozenset(
    {b"connection", b"upgrade", b"http2-settings", b"keep-alive", b"proxy-connection", b"transfer-encoding", b"te"}
)
#: base64url without padding (RFC 7540 section 3.2.1): whole 3-byte groups, then 0, 2 or 3 characters.
_BASE64URL = re.compile(rb"(?:[A-Za-z0-9_-]{4})*(?:[A-Za-z0-9_-]{2,3})?")
_SWITCHING = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"


@dataclass(frozen=True)
class H2cUpgrade:
    """An HTTP/1.1 request that asked to continue in HTTP/2, as stream 1 will replay it."""

    method: bytes
    target: bytes
    headers: list[tuple[bytes, bytes]]
    #: The ``HTTP2-Settings`` header: the client's SETTINGS payload in base64url.
    settings: bytes
    content_length: int
    #: Bytes of the request head, up to and including its blank line.
    head_length: int


def h2c_upgrade(head: bytes) -> H2cUpgrade | None:
    """The upgrade asked by the request head ``head`` (ending with its blank line), or ``None`` when it asks none, or
    one this server declines (a chunked or too large body, a malformed settings header): the request is then served
    as HTTP/1.1, which RFC 7540 allows a server to do with any upgrade it does not take."""
    lines = head.split(b"\r\n")
    request_line = lines[0].split(b" ")
    if len(request_line) != 3 or request_line[2] != b"HTTP/1.1":
        return None
    headers: list[tuple[bytes, bytes]] = []
    for line in lines[1:]:
        if not line:
            continue
        name, colon, value = line.partition(b":")
        if not colon:
            return None
        headers.append((name.strip().lower(), value.strip()))
    fields: dict[bytes, list[bytes]] = {}
    for name, value in headers:
        fields.setdefault(name, []).append(value)
    connection = {token.strip().lower() for value in fields.get(b"connection", []) for token in value.split(b",")}
    upgrade = {token.strip().lower() for value in fields.get(b"upgrade", []) for token in value.split(b",")}
    settings = fields.get(b"http2-settings", [])
    if b"h2c" not in upgrade or not {b"upgrade", b"http2-settings"} <= connection or len(settings) != 1:
        return None
    if b"transfer-encoding" in fields or len(fields.get(b"content-length", [b"0"])) != 1:
        return None
    # A SETTINGS payload is whole 6-byte parameters: checked before the 101, which cannot be taken back.
    if not _BASE64URL.fullmatch(settings[0]) or len(urlsafe_b64decode(settings[0] + b"==")) % 6:
        return None
    try:
        length = int(fields.get(b"content-length", [b"0"])[0])
    except ValueError:
        return None
    if not 0 <= length <= MAX_UPGRADE_BODY_BYTES:
        return None
    replayed = [(name, value) for name, value in headers if name not in _NOT_REPLAYED and name != b"content-length"]
    return H2cUpgrade(request_line[0], request_line[1], replayed, settings[0], length, len(head))


class _UpgradedH2(ZttpH2Protocol):
    """uvicorn's HTTP/2 protocol on a connection upgraded from HTTP/1.1: the upgrade request is stream 1."""

    def __init__(self, upgrade: H2cUpgrade, body: bytes, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._upgrade = upgrade
        self._body = body

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)  # the server's SETTINGS, the first frame after the 101
        up = self._upgrade
        try:
            self.conn.initiate_upgrade_connection(up.method, up.target, up.headers, up.settings)
        except zttp.ProtocolError as exc:  # a request HTTP/2 cannot carry: GOAWAY, as for a bad frame
            self.logger.warning("Invalid h2c upgrade request: %s", exc)
            self._close_connection()
            return
        self.handle_events()
        cycle = self.cycles.get(1)
        if cycle is not None:
            # Stream 1 arrives half-closed (its body came in HTTP/1.1); its task has not run yet.
            cycle.body = bytearray(self._body)
        self.flush()


class HttpProtocol(asyncio.Protocol):
    """uvicorn's ``http`` protocol class for the edge port: one per connection, replaced by the protocol it picks."""

    alpn_protocols: ClassVar[list[str]] = ["h2", "http/1.1"]

    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        self._kwargs: dict[str, Any] = {
            "config": config,
            "server_state": server_state,
            "app_state": app_state,
            "_loop": _loop,
        }
        self._config = config
        self._connections = server_state.connections
        self._loop = _loop or asyncio.get_event_loop()
        self._transport: asyncio.Transport | None = None
        self._idle: asyncio.TimerHandle | None = None
        self._buffer = bytearray()  # grows in place while an upgrade's body arrives

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._transport = transport
        if is_ssl(transport):
            ssl_object = transport.get_extra_info("ssl_object")
            alpn = ssl_object.selected_alpn_protocol() if ssl_object is not None else None
            self._switch(ZttpH2Protocol(**self._kwargs) if alpn == "h2" else HttpToolsProtocol(**self._kwargs), b"")
            return
        # Counted as a connection while undecided, so a server shutdown closes it too.
        self._connections.add(self)  # type: ignore[arg-type]
        self._idle = self._loop.call_later(self._config.timeout_keep_alive, transport.close)

    def connection_lost(self, exc: Exception | None) -> None:
        self._undecided_done()

    def eof_received(self) -> None:
        pass

    def shutdown(self) -> None:
        if self._transport is not None:
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        buffer = self._buffer
        if len(buffer) < len(PREFACE) and PREFACE.startswith(buffer):
            return
        if buffer.startswith(PREFACE):
            self._switch(ZttpH2Protocol(**self._kwargs), bytes(buffer))
            return
        end = buffer.find(b"\r\n\r\n")
        if end < 0:
            if len(buffer) > MAX_HEAD_BYTES:
                self._switch(HttpToolsProtocol(**self._kwargs), bytes(buffer))
            return
        head = bytes(buffer[: end + 4])
        upgrade = h2c_upgrade(head) if b"h2c" in head.lower() else None
        if upgrade is None:
            self._switch(HttpToolsProtocol(**self._kwargs), bytes(buffer))
            return
        body_end = upgrade.head_length + upgrade.content_length
        if len(buffer) < body_end:
            return
        if self._transport is None:  # data comes after connection_made; never taken
            return
        self._transport.write(_SWITCHING)
        body, rest = bytes(buffer[upgrade.head_length : body_end]), bytes(buffer[body_end:])
        self._switch(_UpgradedH2(upgrade, body, **self._kwargs), rest)

    def _undecided_done(self) -> None:
        self._connections.discard(self)
        if self._idle is not None:
            self._idle.cancel()
            self._idle = None

    def _switch(self, protocol: asyncio.Protocol, initial: bytes) -> None:
        if self._transport is None:  # only called after connection_made; never taken
            return
        self._undecided_done()
        self._buffer = bytearray()
        self._transport.set_protocol(protocol)
        protocol.connection_made(self._transport)
        if initial:
            protocol.data_received(initial)
