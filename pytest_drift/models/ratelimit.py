"""Adaptive rate limiting of live model calls, per provider and process, and their retries.

**In flight.** Each provider endpoint (provider prefix + api_base) has an `AdaptiveLimit`:
at most ⌊L⌋ requests in flight, L between 1 and the ceiling (the run's concurrency). L
changes once per window of answers (a window closes after max(4, ⌊L⌋) answers, about one
round trip of every request in flight), AIMD with a tolerance:

    r = 429 answers / answers in the window
    r > 1/2  ->  L = max(1, L / 2)        (multiplicative decrease: we are past the limit)
    r <= 1/2 ->  L = min(ceiling, L + 1)  (additive increase)

A provider over its limit answers most requests beyond it with 429, so r climbs past 1/2
and L halves; the occasional 429 of a provider under its limit does not shrink the run.
5xx answers and timeouts are failures of the provider, not of our pace: they leave L alone.

**Retries.** A 429 is retried after its Retry-After (retry-after-ms, seconds or an HTTP
date; capped at `max_retry_after`; plus up to 10 % so retries do not arrive together) or,
without one, after the backoff below; up to `max_rate_limited` times. A 5xx, timeout or
dropped connection is retried after a jittered exponential backoff, uniform in [d/2, d]
with d = min(max_delay, base_delay * 2^k) for the k-th such retry, up to `max_errors`
times. A waiting retry holds no slot. When a cassette answers (replay) nothing waits.
What still fails is the caller's to report: the episode is labelled, never scored.
"""

from __future__ import annotations

import email.utils
import random
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Callable, Iterator, Literal, TypeVar

T = TypeVar("T")
Kind = Literal["rate_limited", "transient", "fatal"]
TOLERANCE = 0.5
MIN_WINDOW = 4
DEFAULT_CEILING = 32


@dataclass(frozen=True)
class RetryPolicy:
    max_errors: int = 5  # 5xx, timeouts, dropped connections
    max_rate_limited: int = 30  # 429s (each waits its Retry-After)
    base_delay: float = 0.5  # the first backoff and its cap, as the OpenAI SDK's
    max_delay: float = 8.0
    max_retry_after: float = 120.0

    def backoff(self, k: int, rng: random.Random) -> float:
        d = min(self.max_delay, self.base_delay * 2 ** k)
        return rng.uniform(d / 2, d)


class AdaptiveLimit:
    """Requests in flight to one provider endpoint, AIMD as the module says. Thread-safe."""

    def __init__(self, ceiling: int = DEFAULT_CEILING) -> None:
        self.ceiling = max(1, ceiling)
        self.limit = float(self.ceiling)
        self.in_flight = 0
        self.peak_in_flight = 0
        self.cuts = 0
        self._answers = self._limited = 0
        self._cond = threading.Condition()

    def set_ceiling(self, ceiling: int) -> None:
        with self._cond:
            self.ceiling = max(1, ceiling)
            self.limit = min(self.limit, float(self.ceiling)) if self.cuts else float(self.ceiling)
            self._cond.notify_all()

    @contextmanager
    def slot(self) -> Iterator[float]:
        """Hold one of the ⌊L⌋ slots for a request; yields the seconds waited for it."""
        start = time.monotonic()
        with self._cond:
            while self.in_flight >= int(self.limit):
                self._cond.wait()
            self.in_flight += 1
            self.peak_in_flight = max(self.peak_in_flight, self.in_flight)
        try:
            yield time.monotonic() - start
        finally:
            with self._cond:
                self.in_flight -= 1
                self._cond.notify()

    def answer(self, rate_limited: bool) -> None:
        """Count an answer (a success or a 429) in the current window; close it when full."""
        with self._cond:
            self._answers += 1
            self._limited += rate_limited
            if self._answers < max(MIN_WINDOW, int(self.limit)):
                return
            if self._limited / self._answers > TOLERANCE:
                self.limit = max(1.0, self.limit / 2)
                self.cuts += 1
            else:
                self.limit = min(float(self.ceiling), self.limit + 1)
                self._cond.notify_all()
            self._answers = self._limited = 0


_LIMITS: dict[str, AdaptiveLimit] = {}
_LIMITS_LOCK = threading.Lock()
_ceiling = DEFAULT_CEILING
_policy = RetryPolicy()


def retry_policy() -> RetryPolicy:
    """The retry policy of this process's live calls."""
    return _policy


def set_retry_policy(policy: RetryPolicy) -> RetryPolicy:
    """Replace the process's retry policy; returns the previous one."""
    global _policy
    previous, _policy = _policy, policy
    return previous


def endpoint_key(model: str, api_base: str | None) -> str:
    """One limit per provider endpoint: the model's provider prefix and where it is sent."""
    return f"{model.split('/', 1)[0]}@{api_base or 'default'}"


_caps: dict[str, int] = {}  # endpoints that serve fewer at once than the run's concurrency


def provider_limit(model: str, api_base: str | None, cap: int | None = None) -> AdaptiveLimit:
    """The endpoint's limit; `cap`: the most it ever takes at once (e.g. 1 for llama.cpp)."""
    key = endpoint_key(model, api_base)
    with _LIMITS_LOCK:
        limit = _LIMITS.get(key)
        if limit is None:
            if cap is not None:
                _caps[key] = cap
            limit = _LIMITS[key] = AdaptiveLimit(min(_ceiling, _caps.get(key, _ceiling)))
        return limit


def set_ceiling(ceiling: int) -> int:
    """The most requests in flight to any one endpoint (the run's concurrency); returns the
    previous one, for whoever set it to restore it."""
    global _ceiling
    with _LIMITS_LOCK:
        previous, _ceiling = _ceiling, max(1, ceiling)
        for key, limit in _LIMITS.items():
            limit.set_ceiling(min(_ceiling, _caps.get(key, _ceiling)))
    return previous


def limits() -> dict[str, AdaptiveLimit]:
    with _LIMITS_LOCK:
        return dict(_LIMITS)


def retry_after(headers: Any) -> float | None:
    """Seconds a 429 asks us to wait: retry-after-ms, else retry-after (seconds or HTTP date)."""
    if headers is None:
        return None
    get = headers.get if hasattr(headers, "get") else (lambda k: None)
    ms = get("retry-after-ms")
    try:
        if ms is not None:
            return max(0.0, float(ms) / 1000)
    except ValueError:
        pass
    value = get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(str(value))
    except (TypeError, ValueError):
        return None
    return max(0.0, when.timestamp() - time.time())


@dataclass
class Attempts:
    """What one call's retries cost: how many, how many were 429s, how long they waited."""

    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0


class GaveUp(Exception):
    """The retry bound was reached; `last` is the final failure."""

    def __init__(self, last: BaseException, attempts: Attempts, kind: Kind) -> None:
        super().__init__(str(last))
        self.last, self.attempts, self.kind = last, attempts, kind


_rng = random.Random()
_STOP = threading.Event()


class Stopped(BaseException):
    """The run is stopping (interrupted, or it stopped at a failure): live calls end here.
    A BaseException, so no handler of provider errors (or a world's tool) takes it for one."""


def stop_calls() -> None:
    """Make every live call of this process raise Stopped at its next attempt or wait."""
    _STOP.set()


def resume_calls() -> None:
    _STOP.clear()


def _stoppable_sleep(seconds: float) -> None:
    if _STOP.wait(seconds):
        raise Stopped()


def call_with_retries(fn: Callable[[], T], *, limit: AdaptiveLimit, policy: RetryPolicy,
                      kind_of: Callable[[BaseException], Kind],
                      headers_of: Callable[[BaseException], Any] = lambda exc: None,
                      wait: bool = True, sleep: Callable[[float], None] = _stoppable_sleep) -> tuple[T, Attempts]:
    """Call `fn` in a slot of `limit`, retrying as the module says. A fatal failure is raised
    as it is (with `.attempts` set); an exhausted retry bound raises GaveUp; a stopping run
    raises Stopped before any attempt."""
    attempts = Attempts()
    errors = limited = 0
    while True:
        if _STOP.is_set():
            raise Stopped()
        with limit.slot():
            try:
                result = fn()
            except Exception as exc:
                failure: BaseException = exc
                kind = kind_of(exc)
                if kind == "rate_limited":
                    limit.answer(rate_limited=True)
            else:
                limit.answer(rate_limited=False)
                return result, attempts
        if kind == "fatal":
            failure.attempts = attempts  # type: ignore[attr-defined]  # the caller reads the count off any exception
            raise failure
        if kind == "rate_limited":
            if limited >= policy.max_rate_limited:
                raise GaveUp(failure, attempts, kind)
            asked = retry_after(headers_of(failure))
            # at least what was asked (plus up to 10 %, so retries do not arrive together)
            delay = (min(policy.max_retry_after, asked) * _rng.uniform(1.0, 1.1) if asked is not None
                     else policy.backoff(limited, _rng))
            limited += 1
            attempts.rate_limit_waits += 1
        else:
            if errors >= policy.max_errors:
                raise GaveUp(failure, attempts, kind)
            delay = policy.backoff(errors, _rng)
            errors += 1
        attempts.retries += 1
        if wait and delay > 0:
            sleep(delay)
            attempts.waited_s += delay
