"""A model's caller from plain arguments, for recording and replay alike: endpoint, key for
replay, cassette name, and the request plan of what the run asked (`request.plan_request`)."""

from __future__ import annotations

import os
from pathlib import Path

from .ids import ModelId
from .litellm_caller import LiteLLMCaller
from .request import Decoding, RequestPlan, plan_request

REPLAY_KEY = "drift-replay-key"  # providers insist on a key even when a cassette answers
# The key each provider's litellm route reads; a loopback endpoint without one gets REPLAY_KEY.
KEY_ENV = {"openai": "OPENAI_API_KEY", "anthropic": "ANTHROPIC_API_KEY", "gemini": "GEMINI_API_KEY"}


def request_plan(model: ModelId, decoding: Decoding = Decoding(),
                 defaults: tuple[float | None, int] | None = None) -> RequestPlan:
    """What `model`'s requests carry (the embedded model: its greedy, capped shape)."""
    return plan_request(model.text, decoding, local=model.is_local, defaults=defaults)


def _needs_key(model_name: str, api_base: str | None, record_mode: str) -> bool:
    if record_mode == "none":
        return True
    env = KEY_ENV.get(model_name.partition("/")[0], "OPENAI_API_KEY")
    return bool(api_base) and not os.environ.get(env)


def model_caller(model: ModelId, *, seed: int, cassette: Path, record_mode: str, api_base: str | None = None,
                decoding: Decoding = Decoding(), defaults: tuple[float | None, int] | None = None) -> LiteLLMCaller:
    """The caller of a hosted model or of the embedded local server (started only when recording)."""
    plan = request_plan(model, decoding, defaults)
    name = model.text
    if model.is_local:
        from .local import local_endpoint

        name, api_base = local_endpoint(model.text, record_mode)
    return LiteLLMCaller(model=name, seed=seed, plan=plan, api_base=api_base,
                         api_key=REPLAY_KEY if _needs_key(name, api_base, record_mode) else None,
                         cassette=str(cassette),
                         max_in_flight=1 if model.is_local else None)  # llama.cpp serves one at a time
