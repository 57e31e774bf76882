"""A live model's caller from plain arguments: endpoint, key for replay, cassette name."""

from __future__ import annotations

import os
from pathlib import Path

from .ids import ModelId
from .litellm_caller import LiteLLMCaller

REPLAY_KEY = "drift-replay-key"  # providers insist on a key even when a cassette answers


def live_caller(model: ModelId, *, seed: int, cassette: Path, record_mode: str,
                api_base: str | None = None) -> LiteLLMCaller:
    """The caller of a hosted model or of the embedded local server (started only when recording)."""
    name = model.text
    if model.kind == "local":
        from .local import local_endpoint

        name, api_base = local_endpoint(model.text, record_mode)
    api_key = None
    if record_mode == "none" or (api_base and not os.environ.get("OPENAI_API_KEY")):
        api_key = REPLAY_KEY
    return LiteLLMCaller(model=name, seed=seed, api_base=api_base, api_key=api_key, cassette=str(cassette))
