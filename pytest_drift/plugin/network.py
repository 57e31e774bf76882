"""Refuse non-loopback connections; knows no pytest, and restores what it patched."""

from __future__ import annotations

import errno
import socket
from typing import Any, Callable

LOOPBACK = ("127.0.0.1", "::1", "localhost")


class NetworkBlocked(ConnectionRefusedError):
    pass


def _host(address: Any) -> str | None:
    return str(address[0]) if isinstance(address, tuple) and address else None


def _check(address: Any) -> None:
    host = _host(address)
    if host is not None and host not in LOOPBACK and not host.startswith("127."):
        raise NetworkBlocked(f"pytest-drift --block-network: connection to {host} refused")


def block_network() -> Callable[[], None]:
    """Patch socket.connect and connect_ex to refuse non-loopback hosts; returns the undo."""
    real_connect, real_connect_ex = socket.socket.connect, socket.socket.connect_ex

    def connect(sock: socket.socket, address: Any) -> Any:
        _check(address)
        return real_connect(sock, address)

    def connect_ex(sock: socket.socket, address: Any) -> Any:
        try:
            _check(address)
        except NetworkBlocked:
            return errno.ECONNREFUSED  # connect_ex reports, it does not raise
        return real_connect_ex(sock, address)

    socket.socket.connect = connect  # type: ignore[method-assign]
    socket.socket.connect_ex = connect_ex  # type: ignore[method-assign]

    def undo() -> None:
        socket.socket.connect = real_connect  # type: ignore[method-assign]
        socket.socket.connect_ex = real_connect_ex  # type: ignore[method-assign]

    return undo
