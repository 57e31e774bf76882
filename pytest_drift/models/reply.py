"""The reply contract: what every model caller returns to the episode loop."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from ..world import Message  # the one Message: a chat message as the world and the loop keep it


# An assistant message's reasoning text, kept for transcripts and scans. Ours, never sent:
# the caller strips it (`wire_messages`); what the provider needs back travels in its own
# fields (`ModelReply.echo`, e.g. Anthropic's `thinking_blocks` with their signatures).
REASONING_KEY = "_drift_reasoning"


@dataclass(frozen=True)
class ModelToolCall:
    name: str
    arguments: str | None
    # the provider's own fields of this call that must go back with it (Gemini's thought signature)
    provider_fields: dict[str, Any] | None = None


@dataclass(frozen=True)
class ModelReply:
    content: str | None
    tool_calls: tuple[ModelToolCall, ...] = ()
    empty: bool = False  # no choices / no message at all
    reasoning: str | None = None  # the model's reasoning text (thinking, reasoning summary), apart from `content`
    # message fields the provider expects back, exactly as it sent them (e.g. `thinking_blocks`)
    echo: dict[str, Any] = field(default_factory=dict)


def wire_messages(messages: list[Message]) -> list[Message]:
    """The conversation as it is sent: our private keys dropped (a copy only of the messages
    that carry one, so a long conversation costs a scan, not a deep copy)."""
    if not any(REASONING_KEY in m for m in messages):
        return messages
    return [{k: v for k, v in m.items() if k != REASONING_KEY} if REASONING_KEY in m else m for m in messages]


class ModelCaller(Protocol):
    def __call__(self, messages: list[Message], tools: list[dict[str, Any]]) -> ModelReply: ...
