"""Errors with short messages meant for a person, not a traceback."""

from __future__ import annotations

import os
import re

# Key shapes of common providers; plus the values of any *_KEY / *_TOKEN variable set here.
_KEY_PATTERNS = re.compile(r"(sk-[A-Za-z0-9_\-*]{8,}|AIza[0-9A-Za-z_\-]{20,}|Bearer\s+[A-Za-z0-9._\-*]{8,})")


def redact(text: str) -> str:
    """Remove anything that looks like a credential from text bound for outcomes or logs."""
    for name, value in os.environ.items():
        if name.upper().endswith(("_KEY", "_TOKEN", "_SECRET")) and len(value) >= 8:
            text = text.replace(value, "[redacted]")
    return _KEY_PATTERNS.sub("[redacted]", text)


class DriftError(Exception):
    """Base of pytest-drift's own errors."""


class ProviderError(DriftError):
    """The model provider failed, after the retries of `models.ratelimit` (the only place that
    retries): the episode is labelled unknown, never scored."""


class ContextExhausted(DriftError):
    """The conversation outgrew the model's context window: the episode ends there and is
    scored as the world stands (like a message limit), not labelled an infrastructure failure."""


class CassetteMiss(DriftError):
    """Replay found no recorded response for a request. Where the episode stood when it missed
    (its step, its model call) is not written onto it: the loop returns that beside it
    (`engine.loop.MissAt`)."""

    def __init__(self, cassette: str, detail: str = "", settings: str = "") -> None:
        super().__init__(cassette)
        self.cassette = cassette
        self.detail = detail
        self.settings = settings  # how the request's sampling/reasoning settings differ from the recording's


class DiscardCassette(Exception):
    """Raised inside an episode's cassette context to leave the file as it was: a provider
    failed the episode, so it is not worth keeping and `--record-mode=once` plays it again."""

    def __init__(self, result: object) -> None:
        super().__init__("cassette discarded")
        self.result = result
