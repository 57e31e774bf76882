"""A scripted policy as a model caller: called in process, no litellm, no network."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from ..world import Environment, Message, Policy
from .reply import ModelReply, ModelToolCall


def _arguments(arguments: dict[str, Any] | str) -> str:
    return arguments if isinstance(arguments, str) else json.dumps(arguments, sort_keys=True)


@dataclass
class PolicyCaller:
    """Hands the policy the world and the conversation; its reply as a model's would read."""

    policy: Policy
    env: Environment

    def __call__(self, messages: list[Message], tools: list[dict[str, Any]]) -> ModelReply:
        reply = self.policy(self.env, list(messages))
        calls = tuple(ModelToolCall(c.name, _arguments(c.arguments)) for c in reply.calls)
        if not calls and not reply.text:
            return ModelReply(content=None, empty=True)
        return ModelReply(content=reply.text or None, tool_calls=calls)
