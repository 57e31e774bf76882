"""Models: the model-id parser, the reply contract, callers (litellm, scripted policies,
the embedded local model) and cassettes. Knows no episode loop and no pytest.

Heavy parts import lazily: litellm on the first live call, vcrpy with `cassettes`, and
every name here on first use (PEP 562), so `models.ids` or `models.request` alone cost
little."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

_WHERE = {
    **dict.fromkeys(["LOCAL_PREFIX", "POLICY_PREFIX", "ModelId", "UnknownModel", "parse_model"], ".ids"),
    **dict.fromkeys(["LiteLLMCaller", "litellm_module", "to_reply"], ".litellm_caller"),
    **dict.fromkeys(["REPLAY_KEY", "model_caller"], ".endpoint"),
    "PolicyCaller": ".policy_caller",
    **dict.fromkeys(["ModelCaller", "ModelReply", "ModelToolCall"], ".reply"),
}

if TYPE_CHECKING:
    from .ids import LOCAL_PREFIX, POLICY_PREFIX, ModelId, UnknownModel, parse_model
    from .litellm_caller import LiteLLMCaller, litellm_module, to_reply
    from .endpoint import REPLAY_KEY, model_caller
    from .policy_caller import PolicyCaller
    from .reply import ModelCaller, ModelReply, ModelToolCall


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value
    return value


__all__ = sorted(_WHERE)
