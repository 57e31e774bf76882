"""What every provider family's converter shares: litellm's own parameter mapping (cached per
request settings), a recorded reply as the httpx response litellm's transformations read,
and litellm's own price of the converted reply."""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Callable

from ..litellm_import import litellm_module

# completion() keywords that never reach a request body (the caller's client settings)
CLIENT_FIELDS = frozenset({"num_retries", "max_retries", "timeout", "api_base", "api_key"})
# the request settings a plan may send, as completion() takes them
SETTINGS = ("temperature", "max_tokens", "max_completion_tokens", "seed", "tools", "tool_choice",
            "reasoning_effort", "thinking")


@dataclass(frozen=True)
class Built:
    """A request as litellm sends it (url and JSON body), and how litellm turns the recorded
    answer to it into a priced ModelResponse."""

    url: str
    body: bytes
    convert: Callable[[bytes], Any]


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, separators=(",", ":")).encode()


def split(kwargs: dict[str, Any]) -> tuple[str, str] | None:
    """(provider, model name) of a call this module may take: messages given, nothing beyond
    the settings litellm maps and the client's own fields."""
    provider, _, name = str(kwargs.get("model", "")).partition("/")
    if not name or not kwargs.get("messages") or set(kwargs) - CLIENT_FIELDS - set(SETTINGS) - {"model", "messages"}:
        return None
    if "tools" in kwargs and not kwargs["tools"]:
        return None  # (litellm drops an empty tool list and its tool_choice)
    return provider, name


def optional_params(provider: str, name: str, kwargs: dict[str, Any]) -> dict[str, Any]:
    """litellm's `get_optional_params` for the call's settings, as `completion` calls it (the
    provider's own mapping: renamed, dropped, added fields), a fresh copy each call since
    litellm's transformations change it in place. Cached by the settings: the mapping does not
    read the messages."""
    settings = {k: kwargs[k] for k in SETTINGS if k in kwargs}
    key = json.dumps(settings, sort_keys=True, separators=(",", ":"))
    return copy.deepcopy(_optional_params(provider, name, key, kwargs.get("max_retries")))


@lru_cache(maxsize=64)
def _optional_params(provider: str, name: str, key: str, max_retries: Any) -> dict[str, Any]:
    from litellm.utils import get_optional_params

    return dict(get_optional_params(model=name, custom_llm_provider=provider, max_retries=max_retries, stream=None,
                                    **json.loads(key)))


@lru_cache(maxsize=256)
def priced(provider: str, name: str) -> bool:
    """Whether litellm's price table knows the model (an unpriced reply's cost stays None)."""
    try:
        info = litellm_module().get_model_info(model=name, custom_llm_provider=provider)
    except Exception:
        return False
    return bool(info.get("input_cost_per_token") or info.get("output_cost_per_token"))


def model_response(provider: str) -> Any:
    """The empty ModelResponse `completion` hands a provider's converter."""
    litellm = litellm_module()
    response = litellm.ModelResponse()
    response.usage = litellm.Usage()
    response._hidden_params["custom_llm_provider"] = provider
    response._hidden_params["region_name"] = None
    return response


def price(response: Any, provider: str, name: str, params: dict[str, Any]) -> Any:
    """Set the reply's `response_cost` as litellm's logging does (`response_cost_calculator`
    with the model as given and the provider: a provider-reported cost, e.g. OpenRouter's,
    or litellm's table), None where it has no price."""
    from litellm.cost_calculator import response_cost_calculator

    try:
        cost = response_cost_calculator(response_object=response, model=f"{provider}/{name}",
                                        custom_llm_provider=provider, call_type="completion",
                                        optional_params=params, litellm_model_name=f"{provider}/{name}")
    except Exception:
        cost = None
    response._hidden_params["response_cost"] = cost
    return response


def http_response(url: str, raw: bytes) -> Any:
    """The recorded answer as the httpx response litellm's HTTP handler would have returned."""
    import httpx

    return httpx.Response(200, content=raw, headers={"content-type": "application/json"},
                          request=httpx.Request("POST", url))


class QuietLogging:
    """What litellm's transformations read and call on the logging object: the call's optional
    and litellm params (`completion` gives it the same; Gemini's converter reads them), and
    logging hooks with nothing to log in a replay."""

    def __init__(self, optional_params: dict[str, Any] | None = None) -> None:
        self.optional_params = optional_params if optional_params is not None else {}
        self.litellm_params: dict[str, Any] = {}
        self.model_call_details: dict[str, Any] = {}

    def pre_call(self, *args: Any, **kwargs: Any) -> None:
        pass

    def post_call(self, *args: Any, **kwargs: Any) -> None:
        pass


class LazyEncoding:
    """litellm's default tokenizer, loaded at first use: `completion` hands it to every
    provider's converter, which reads it only to count tokens a reply did not report, and
    loading it costs ~0.5 s of a replay that never needs it."""

    def __getattr__(self, name: str) -> Any:
        from litellm.main import _get_encoding

        return getattr(_get_encoding(), name)


ENCODING = LazyEncoding()
