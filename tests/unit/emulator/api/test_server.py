from __future__ import annotations

import socket

import pytest

from emulator.exceptions import ConfigurationError
from emulator.listen import bind_listener


def bind(host: str, port: int) -> socket.socket:
    return bind_listener(host, port, "--port")


def test_bound_socket_is_tcp_so_asyncio_disables_nagle() -> None:
    # With proto 0 asyncio skips TCP_NODELAY and each response waits for a delayed ACK (~40 ms).
    with bind("127.0.0.1", 0) as sock:
        assert sock.proto == socket.IPPROTO_TCP
        assert sock.getsockname()[1] > 0


def test_a_taken_port_is_one_clear_error() -> None:
    with bind("127.0.0.1", 0) as taken, pytest.raises(ConfigurationError, match=r"cannot listen on 127\.0\.0\.1"):
        bind("127.0.0.1", taken.getsockname()[1])
