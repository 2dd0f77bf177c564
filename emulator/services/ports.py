"""Loopback ports for the embedded services."""

from __future__ import annotations

import socket

LOOPBACK = "127.0.0.1"


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # Servers bind with SO_REUSEADDR, so a port in TIME_WAIT after our own restart counts as free.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def free_port(host: str = LOOPBACK) -> int:
    """A port nobody listens on now. Another process may take it before we do; callers retry on bind errors."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


def pick_ports(count: int, preferred: list[int] | None = None, host: str = LOOPBACK) -> list[int]:
    """``count`` distinct free ports, reusing ``preferred`` ones that are still free so addresses stay stable."""
    chosen: list[int] = []
    for port in preferred or []:
        if len(chosen) < count and port not in chosen and port_is_free(port, host):
            chosen.append(port)
    if len(chosen) < len(preferred or []):
        chosen = []  # a partial reuse would mix old and new addresses: take a fresh set instead
    while len(chosen) < count:
        port = free_port(host)
        if port not in chosen:
            chosen.append(port)
    return chosen


def is_listening(port: int, host: str = LOOPBACK, timeout: float = 0.5) -> bool:
    try:
        with socket.create_connection((host, port), timeout=timeout):
            return True
    except OSError:
        return False
