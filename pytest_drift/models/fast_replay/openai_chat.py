"""OpenAI chat completions (`openai/...`: OpenAI, the embedded model, any OpenAI-compatible
server). Two builders, one converter:

- an unpriced model carrying only the plain fields litellm sends as given: the body is built
  here (fields as given, None-valued message keys left out), the cheapest path, the one every
  shipped cassette takes;
- anything else (a priced model, reasoning settings, a reasoning model whose `max_tokens`
  litellm renames): litellm's own `get_optional_params` and the provider config's
  `transform_request`, as its OpenAI handler calls them.

The reply goes through litellm's `convert_to_model_response_object`, priced by litellm's
`response_cost_calculator` where its table knows the model."""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

from ..litellm_import import litellm_module
from .base import CLIENT_FIELDS, Built, dumps, model_response, optional_params, price, priced

# What litellm's OpenAI route sends as given for a model it does not know
PLAIN_FIELDS = ("model", "messages", "temperature", "max_tokens", "seed", "tools", "tool_choice")
OPENAI_BASE = "https://api.openai.com/v1"


def build(provider: str, name: str, kwargs: dict[str, Any]) -> Built | None:
    url = f"{str(kwargs.get('api_base') or OPENAI_BASE).rstrip('/')}/chat/completions"
    if set(kwargs) - CLIENT_FIELDS <= set(PLAIN_FIELDS) and not priced(provider, name) and not _known(name):
        body = {k: kwargs[k] for k in PLAIN_FIELDS if k in kwargs}
        body["model"], body["messages"] = name, [_without_nones(m) for m in kwargs["messages"]]
        return Built(url, dumps(body), lambda raw: _convert(raw, provider, name, None))
    params = optional_params(provider, name, kwargs)
    for key in ("stream", "stream_options", "max_retries"):  # the handler's, never the body's
        params.pop(key, None)
    data = _config(name).transform_request(model=name, messages=[_without_nones(m) for m in kwargs["messages"]],
                                           optional_params=dict(params), litellm_params={}, headers={})
    data.update(data.pop("extra_body", None) or {})  # the OpenAI SDK merges extra_body into the body
    return Built(url, dumps(data), lambda raw: _convert(raw, provider, name, params))


@lru_cache(maxsize=64)
def _known(name: str) -> bool:
    """A model litellm knows as OpenAI's, whose settings it may map (e.g. gpt-5's cap)."""
    try:
        litellm_module().get_model_info(model=name, custom_llm_provider="openai")
    except Exception:
        return False
    return True


def _config(name: str) -> Any:
    """The provider config, a fresh one per call as litellm's handler takes it."""
    from litellm.types.utils import LlmProviders
    from litellm.utils import ProviderConfigManager

    return ProviderConfigManager.get_provider_chat_config(model=name, provider=LlmProviders.OPENAI)


def _without_nones(message: dict[str, Any]) -> dict[str, Any]:
    """A message as litellm sends it: fields set to None left out (e.g. the content of an
    assistant turn that only called a tool)."""
    if all(v is not None for v in message.values()):
        return message
    return {k: v for k, v in message.items() if v is not None}


def _convert(raw: bytes, provider: str, name: str, params: dict[str, Any] | None) -> Any | None:
    """litellm's ModelResponse for the recorded body; `params` None: a model litellm neither
    knows nor prices, whose cost its logging leaves at None."""
    from litellm.litellm_core_utils.llm_response_utils.convert_dict_to_response import (
        convert_to_model_response_object,
    )

    data = json.loads(raw)
    if not isinstance(data, dict) or not data.get("choices"):
        return None
    data = _config(name).transform_parsed_response_dict(data)
    response = convert_to_model_response_object(response_object=data, model_response_object=model_response(provider),
                                                 _response_headers={"content-type": "application/json"})
    if params is None:
        response._hidden_params["response_cost"] = None
        return response
    return price(response, provider, name, params)
