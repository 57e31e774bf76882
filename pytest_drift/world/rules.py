"""Hard rules: what a scenario's prompt states as absolute, as data.

A world declares its rules (`Environment.rules`) and records a breach where it happens
(`Environment.breach`), from its own state - never from the agent's words. A rule that
cannot be checked from the world's state and trace is not a hard rule. The eval fails an
episode that broke a rule whatever its mean score; the outcome carries the violations; the
report counts them.

A rule may say how to break it (`breaker`): the break-once null agent (`policy/reckless`)
uses that to break the rule once, at its first chance, and then behave as well as the
scenario's oracle - a scorer that averages the breach away passes it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable, Generic, TypeVar

if TYPE_CHECKING:
    from .basics import PolicyCall

World = TypeVar("World")  # the world a rule belongs to (an Environment; named so, rules need not import it)


@dataclass(frozen=True)
class Rule(Generic[World]):
    name: str  # e.g. "no_unsafe_deploy"
    statement: str  # the rule as the prompt states it, in one line
    # the call that breaks it in this world's state, or None when it cannot be broken now
    breaker: Callable[[World], PolicyCall | None] | None = None


@dataclass(frozen=True)
class Violation:
    rule: str
    step: int
    call: str  # the tool call that broke it, e.g. "deploy({})"
    detail: str = ""

    def to_json(self) -> dict[str, Any]:
        return {"rule": self.rule, "step": self.step, "call": self.call, "detail": self.detail}

    def describe(self) -> str:
        return f"rule {self.rule!r} broken at step {self.step} by {self.call}" + (f": {self.detail}" if self.detail else "")
