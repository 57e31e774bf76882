"""A live model's caller from plain arguments: endpoint, key for replay, cassette name."""

from __future__ import annotations

import os
from pathlib import Path

from .ids import ModelId
from .litellm_caller import MAX_OUTPUT_TOKENS, TEMPERATURE, LiteLLMCaller

REPLAY_KEY = "drift-replay-key"  # providers insist on a key even when a cassette answers
HOSTED_MAX_TOKENS = 4000  # hosted models: the provider's default sampling, room for long reasoning


def decoding(model: ModelId, temperature: float | None = None, max_tokens: int | None = None) -> tuple[float | None, int | None]:
    """(temperature, max_tokens) of a live model's requests; None is not sent. Hosted models
    get the provider's default sampling and HOSTED_MAX_TOKENS; the embedded model greedy
    decoding and MAX_OUTPUT_TOKENS. A given `temperature` or `max_tokens` overrides (a
    `max_tokens` of 0 sends none)."""
    local = model.is_local
    t = temperature if temperature is not None else (TEMPERATURE if local else None)
    m = max_tokens if max_tokens is not None else (MAX_OUTPUT_TOKENS if local else HOSTED_MAX_TOKENS)
    return t, (m or None)


def live_caller(model: ModelId, *, seed: int, cassette: Path, record_mode: str, api_base: str | None = None,
                temperature: float | None = None, max_tokens: int | None = None) -> LiteLLMCaller:
    """The caller of a hosted model or of the embedded local server (started only when recording),
    decoding as `decoding` says."""
    name = model.text
    temp, cap = decoding(model, temperature, max_tokens)
    if model.is_local:
        from .local import local_endpoint

        name, api_base = local_endpoint(model.text, record_mode)
    api_key = None
    if record_mode == "none" or (api_base and not os.environ.get("OPENAI_API_KEY")):
        api_key = REPLAY_KEY
    return LiteLLMCaller(model=name, seed=seed, api_base=api_base, api_key=api_key, cassette=str(cassette),
                         temperature=temp, max_tokens=cap,
                         max_in_flight=1 if model.is_local else None)  # llama.cpp serves one at a time
