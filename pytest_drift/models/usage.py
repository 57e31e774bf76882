"""Tokens and cost of model calls, as the provider reported them.

Every live call's usage is added to the meter of the calling context (an episode sets one
with `metered()`, so episodes running at once in threads each count their own) and
announced to the process's listeners (live progress, the cost budget). Cost is litellm's
own price of the response (its price table, offline); a call whose price litellm does not
know makes the episode's cost None rather than a wrong total. Usage comes from the
response body, so a replay from a cassette reports exactly what the recording did.
"""

from __future__ import annotations

import threading
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator


@dataclass
class Usage:
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float | None = 0.0  # None: some call's price is unknown
    reasoning_tokens: int = 0  # part of completion_tokens (the provider's count; litellm's estimate where none)
    encrypted_reasoning: int = 0  # pieces of reasoning that came encrypted or redacted: counted, never read

    def add(self, other: Usage) -> None:
        self.prompt_tokens += other.prompt_tokens
        self.completion_tokens += other.completion_tokens
        self.total_tokens += other.total_tokens
        self.reasoning_tokens += other.reasoning_tokens
        self.encrypted_reasoning += other.encrypted_reasoning
        self.cost_usd = None if self.cost_usd is None or other.cost_usd is None else self.cost_usd + other.cost_usd

    def as_dict(self) -> dict[str, Any]:
        return {"prompt_tokens": self.prompt_tokens, "completion_tokens": self.completion_tokens,
                "total_tokens": self.total_tokens, "cost_usd": self.cost_usd,
                "reasoning_tokens": self.reasoning_tokens, "encrypted_reasoning": self.encrypted_reasoning}


def _int(value: Any) -> int:
    return int(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else 0


def usage_of(response: Any) -> Usage:
    """A litellm response's usage as reported (a missing total is prompt + completion) and
    litellm's price of it (None when its price table does not know the model)."""
    u = getattr(response, "usage", None)
    prompt, completion = _int(getattr(u, "prompt_tokens", 0)), _int(getattr(u, "completion_tokens", 0))
    total = getattr(u, "total_tokens", None)
    hidden = getattr(response, "_hidden_params", None) or {}
    cost = hidden.get("response_cost") if isinstance(hidden, dict) else getattr(hidden, "response_cost", None)
    details = getattr(u, "completion_tokens_details", None)
    reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else getattr(details, "reasoning_tokens", 0)
    return Usage(prompt, completion, _int(total) if total is not None else prompt + completion,
                 float(cost) if isinstance(cost, (int, float)) else None, _int(reasoning), _encrypted(response))


def _encrypted(response: Any) -> int:
    """Encrypted or redacted reasoning pieces of the reply (models.wire: counted, never read)."""
    from .wire import encrypted_reasoning

    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    return encrypted_reasoning(message) if message is not None else 0


@dataclass
class Meter:
    """What one episode's calls used so far, including the caller's own retries and waits."""

    usage: Usage = field(default_factory=Usage)
    calls: int = 0
    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0

    def add(self, other: Meter) -> None:
        self.usage.add(other.usage)
        self.calls += other.calls
        self.retries += other.retries
        self.rate_limit_waits += other.rate_limit_waits
        self.waited_s += other.waited_s


@dataclass(frozen=True)
class CallEvent:
    """One model call finished (answered, or given up): what progress and budgets count."""

    usage: Usage | None  # None: no answer
    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0
    sent: bool = True  # the request reached the provider (False: a cassette answered, no money spent)


_METER: ContextVar[Meter | None] = ContextVar("drift_meter", default=None)
_LISTENERS: list[Callable[[CallEvent], None]] = []
_LOCK = threading.Lock()


@contextmanager
def metered() -> Iterator[Meter]:
    """Count the calls made in this context (and only those: a nested meter hides its calls
    from the outer one, which is how a shared prefix keeps its own usage)."""
    meter = Meter()
    token = _METER.set(meter)
    try:
        yield meter
    finally:
        _METER.reset(token)


def current_meter() -> Meter | None:
    return _METER.get()


def add_listener(listener: Callable[[CallEvent], None]) -> Callable[[], None]:
    """Call `listener` after every model call of this process (from the calling thread);
    returns the function that removes it."""
    with _LOCK:
        _LISTENERS.append(listener)

    def remove() -> None:
        with _LOCK:
            if listener in _LISTENERS:
                _LISTENERS.remove(listener)

    return remove


def record_call(event: CallEvent) -> None:
    """Add a finished call to the context's meter and tell the listeners."""
    meter = _METER.get()
    if meter is not None:
        if event.usage is not None:
            meter.usage.add(event.usage)
            meter.calls += 1
        meter.retries += event.retries
        meter.rate_limit_waits += event.rate_limit_waits
        meter.waited_s += event.waited_s
    for listener in tuple(_LISTENERS):
        listener(event)
