"""Listening sockets bound before a server starts: the real port is known at once (``port=0`` picks a free one),
and a taken port is one clear error instead of a server framework's log line and exit."""

from __future__ import annotations

import socket

from emulator.exceptions import ConfigurationError


def bind_listener(host: str, port: int, how_to_change: str) -> socket.socket:
    """A TCP socket listening on ``host:port``; :class:`ConfigurationError` naming ``how_to_change`` when it cannot.

    The protocol is given explicitly: asyncio turns Nagle's algorithm off (TCP_NODELAY) only on sockets whose
    ``proto`` says TCP, and ``socket.create_server`` leaves it 0, which costs every response a 40 ms delayed ACK.
    """
    try:
        family, kind, proto, _, address = socket.getaddrinfo(
            host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP
        )[0]
        sock = socket.socket(family, kind, proto)
        try:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind(address)
            sock.listen(2048)
        except OSError:
            sock.close()
            raise
    except OSError as exc:
        raise ConfigurationError(
            f"cannot listen on {host}:{port} ({exc.strerror or exc}); choose another with {how_to_change}"
        ) from exc
    return sock


def display_url(sock: socket.socket) -> str:
    """``http://host:port`` of a listening socket, with a wildcard address shown as the loopback one."""
    host, port = sock.getsockname()[:2]
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host  # noqa: S104 - display only
    return f"http://{shown}:{port}"
