"""The reply contract: what every model caller returns to the episode loop."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

Message = dict[str, Any]


@dataclass(frozen=True)
class ModelToolCall:
    name: str
    arguments: str | None


@dataclass(frozen=True)
class ModelReply:
    content: str | None
    tool_calls: tuple[ModelToolCall, ...] = ()
    empty: bool = False  # no choices / no message at all


class ModelCaller(Protocol):
    def __call__(self, messages: list[Message], tools: list[dict[str, Any]]) -> ModelReply: ...
