"""Waiting in tests without racing: poll a condition until a deadline, and fail naming what was
awaited when it passes. Never a bare sleep standing in for "long enough"."""

from __future__ import annotations

import time
from typing import Callable

POLL = 0.002  # seconds between looks: short, so a test waits no longer than the condition takes


def wait_until(condition: Callable[[], bool], timeout: float, what: str, poll: float = POLL) -> None:
    """Return once `condition()` holds; raise AssertionError after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"still waiting after {timeout:g}s for {what}")
        time.sleep(poll)
