"""Errors with short messages meant for a person, not a traceback."""

from __future__ import annotations


class DriftError(Exception):
    """Base of pytest-drift's own errors."""


class ProviderError(DriftError):
    """The model provider failed. Transient ones (rate limit, 5xx, timeout) are retried."""

    def __init__(self, message: str, transient: bool) -> None:
        super().__init__(message)
        self.transient = transient


class CassetteMiss(DriftError):
    """Replay found no recorded response for a request."""

    def __init__(self, cassette: str, detail: str = "") -> None:
        super().__init__(cassette)
        self.cassette = cassette
        self.detail = detail
        self.step: int | None = None
        self.model_call: int | None = None
