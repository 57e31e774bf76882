"""Scripted reference agents. They answer like a chat model (text and/or tool calls) and
are called in process as `policy/<name>` (no model, no network)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from .basics import Message, PolicyCall, PolicyReply

if TYPE_CHECKING:
    from .environment import Environment

__all__ = ["Message", "Noop", "Policy", "PolicyCall", "PolicyReply", "call"]


class Policy(Protocol):
    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply: ...


def call(name: str, **arguments: Any) -> PolicyReply:
    """A reply with one tool call and a one-line rationale."""
    return PolicyReply(text=f"Calling {name}.", calls=(PolicyCall(name, arguments),))


class Noop:
    """Does nothing: answers in text and never calls a tool. Inaction must not score well."""

    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        return PolicyReply(text="I will wait and take no action.")
