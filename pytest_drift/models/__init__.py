"""Models: the model-id parser, the reply contract, callers (litellm, scripted policies,
the embedded local model) and cassettes. Knows no episode loop and no pytest.

Heavy parts import lazily: litellm on the first live call, vcrpy with `cassettes`.
"""

from .ids import LOCAL_PREFIX, POLICY_PREFIX, ModelId, UnknownModel, parse_model
from .litellm_caller import LiteLLMCaller, litellm_module, to_reply
from .live import REPLAY_KEY, live_caller
from .policy_caller import PolicyCaller
from .reply import ModelCaller, ModelReply, ModelToolCall

__all__ = [
    "LOCAL_PREFIX", "POLICY_PREFIX", "REPLAY_KEY", "LiteLLMCaller", "ModelCaller", "ModelId", "ModelReply",
    "ModelToolCall", "PolicyCaller", "UnknownModel", "litellm_module", "live_caller",
    "parse_model", "to_reply",
]
