"""The one reader of model ids: `policy/<name>`, `local/<name>` or a litellm `provider/model`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ..errors import DriftError

Kind = Literal["policy", "local", "provider"]
POLICY_PREFIX = "policy/"
LOCAL_PREFIX = "local/"


class UnknownModel(DriftError):
    """A model id that cannot work (a usage error, raised before any test runs)."""


@dataclass(frozen=True)
class ModelId:
    text: str  # as the user wrote it, e.g. "policy/oracle", "openai/gpt-4o-mini"
    kind: Kind
    name: str  # the policy's or local model's name; for a live model the whole id

    @property
    def is_policy(self) -> bool:
        return self.kind == "policy"

    @property
    def is_local(self) -> bool:
        """The embedded model: one llama.cpp server per process, one request at a time."""
        return self.kind == "local"

    @property
    def message_limit(self) -> int | None:
        """The model's own cap on a world's message limit (the embedded model's recording cost)."""
        if not self.is_local:
            return None
        from .local import LOCAL_MODELS

        return LOCAL_MODELS[self.name].message_limit

    @property
    def is_model(self) -> bool:
        """A model called over HTTP (a provider's or the embedded local server), not a scripted
        policy: it needs a cassette, whether this run records or replays."""
        return self.kind != "policy"


def parse_model(text: str) -> ModelId:
    """Read a model id; a malformed one is an UnknownModel naming the accepted shapes."""
    if text.startswith(POLICY_PREFIX) and text[len(POLICY_PREFIX):]:
        return ModelId(text, "policy", text[len(POLICY_PREFIX):])
    if text.startswith(LOCAL_PREFIX) and text[len(LOCAL_PREFIX):]:
        from .local import LOCAL_MODELS

        name = text[len(LOCAL_PREFIX):]
        if name not in LOCAL_MODELS:
            raise UnknownModel(f"unknown local model {text!r}; known: {', '.join(LOCAL_PREFIX + n for n in LOCAL_MODELS)}")
        return ModelId(text, "local", name)
    if "/" not in text.strip("/"):
        raise UnknownModel(f"model {text!r} must read provider/model, e.g. openai/gpt-4o-mini, policy/oracle")
    return ModelId(text, "provider", text)
