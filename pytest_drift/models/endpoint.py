"""A model's caller from plain arguments, for recording and replay alike: endpoint, key for
replay, cassette name, and the request plan of what the run asked (`request.plan_request`)."""

from __future__ import annotations

import os
from pathlib import Path

from .ids import ModelId
from .litellm_caller import LiteLLMCaller
from .prices import Price
from .providers import key_env
from .request import Decoding, RequestPlan, plan_request

REPLAY_KEY = "drift-replay-key"  # providers insist on a key even when a cassette answers


def request_plan(model: ModelId, decoding: Decoding = Decoding(),
                 defaults: tuple[float | None, int] | None = None) -> RequestPlan:
    """What `model`'s requests carry (the embedded model: its greedy, capped shape)."""
    return plan_request(model.text, decoding, local=model.is_local, defaults=defaults)


def _needs_key(model_name: str, api_base: str | None, record_mode: str) -> bool:
    """A replay, or a loopback endpoint without the provider's key (its record's `key_env`),
    gets REPLAY_KEY."""
    if record_mode == "none":
        return True
    return bool(api_base) and not os.environ.get(key_env(model_name))


def model_caller(model: ModelId, *, seed: int, cassette: Path, record_mode: str, api_base: str | None = None,
                 decoding: Decoding = Decoding(), defaults: tuple[float | None, int] | None = None,
                 price: Price | None = None) -> LiteLLMCaller:
    """The caller of a hosted model or of the embedded local server (started only when recording)."""
    plan = request_plan(model, decoding, defaults)
    name = plan.called
    if model.is_local:
        from .local import local_endpoint

        name, api_base = local_endpoint(model.text, record_mode)
    return LiteLLMCaller(model=name, seed=seed, plan=plan, api_base=api_base,
                         api_key=REPLAY_KEY if _needs_key(name, api_base, record_mode) else None,
                         cassette=str(cassette), price=price,
                         max_in_flight=1 if model.is_local else None)  # llama.cpp serves one at a time
