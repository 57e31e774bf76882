"""Refuse non-loopback connections; knows no pytest, and restores what it patched."""

from __future__ import annotations

import errno
import socket
from typing import Any

LOOPBACK = ("127.0.0.1", "::1", "localhost")
LOOPBACK_PATTERNS = (r"127\.", r"::1$", r"localhost$")  # the same hosts as pytest-recording's allowed_hosts


class NetworkBlocked(ConnectionRefusedError):
    pass


def _host(address: Any) -> str | None:
    return str(address[0]) if isinstance(address, tuple) and address else None


def _check(address: Any) -> None:
    host = _host(address)
    if host is not None and host not in LOOPBACK and not host.startswith("127."):
        raise NetworkBlocked(f"pytest-drift --block-network: connection to {host} refused")


class Guard:
    """socket.connect and connect_ex refusing non-loopback hosts while it is on; calling it undoes it."""

    def __init__(self) -> None:
        self.real_connect, self.real_connect_ex = socket.socket.connect, socket.socket.connect_ex
        real_connect, real_connect_ex = self.real_connect, self.real_connect_ex

        def connect(sock: socket.socket, address: Any) -> Any:
            _check(address)
            return real_connect(sock, address)

        def connect_ex(sock: socket.socket, address: Any) -> Any:
            try:
                _check(address)
            except NetworkBlocked:
                return errno.ECONNREFUSED  # connect_ex reports, it does not raise
            return real_connect_ex(sock, address)

        self.connect, self.connect_ex = connect, connect_ex
        self.install()

    def install(self) -> None:
        socket.socket.connect = self.connect  # type: ignore[method-assign,assignment]  # patching the socket is the point
        socket.socket.connect_ex = self.connect_ex  # type: ignore[method-assign,assignment]  # as above

    def reinstall(self) -> None:
        """On again if someone restored the socket under it (pytest-recording's per-test block, at
        its end, restores the connect it saved at import, which is not ours)."""
        if socket.socket.connect is not self.connect:
            self.install()

    def __call__(self) -> None:
        socket.socket.connect = self.real_connect  # type: ignore[method-assign]  # restoring it
        socket.socket.connect_ex = self.real_connect_ex  # type: ignore[method-assign]  # restoring it


def block_network() -> Guard:
    """Patch socket.connect and connect_ex to refuse non-loopback hosts; returns the undo."""
    return Guard()
