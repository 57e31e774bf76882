"""The world's shared types, in a leaf module (it imports nothing of pytest_drift): a chat
message, and a scripted agent's call and reply. Environment, rules and policies all name them;
kept here, none of those needs another's module for a type, so no import circle forms."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Message = dict[str, Any]  # a chat message as the world writes it and the loop sends it


@dataclass(frozen=True)
class PolicyCall:
    name: str
    arguments: dict[str, Any] | str  # a str is sent verbatim (lets tests send malformed JSON)


@dataclass(frozen=True)
class PolicyReply:
    text: str = ""
    calls: tuple[PolicyCall, ...] = field(default_factory=tuple)
