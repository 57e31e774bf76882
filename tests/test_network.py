"""--block-network: non-loopback connections refused through connect and connect_ex, and
everything restored when the guard is undone (at pytest_unconfigure)."""

from __future__ import annotations

import errno
import socket

import pytest

from pytest_drift.plugin.network import NetworkBlocked, block_network


def test_blocks_connect_and_connect_ex_then_restores_both() -> None:
    before = (socket.socket.connect, socket.socket.connect_ex)
    undo = block_network()
    try:
        with socket.socket() as s, pytest.raises(NetworkBlocked):
            s.connect(("192.0.2.1", 80))  # TEST-NET-1: never routed
        with socket.socket() as s:
            assert s.connect_ex(("192.0.2.1", 80)) == errno.ECONNREFUSED
        with socket.socket() as server, socket.socket() as client:  # loopback stays open
            server.bind(("127.0.0.1", 0))
            server.listen(1)
            assert client.connect_ex(server.getsockname()) == 0
    finally:
        undo()
    assert (socket.socket.connect, socket.socket.connect_ex) == before


def test_the_plugin_undoes_the_guard_at_unconfigure(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_x="def test_x():\n    pass\n")
    before = socket.socket.connect
    pytester.runpytest_inprocess("--block-network", "-p", "no:cacheprovider").assert_outcomes(passed=1)
    assert socket.socket.connect is before
