"""Providers litellm sends through its generic HTTP handler (`base_llm_http_handler`), e.g.
OpenRouter: the handler's own steps in its order - the provider config's
`validate_environment`, `get_complete_url`, `transform_request` (with the provider's
`extra_body` merged as the handler merges it), `sign_request` - and its
`transform_response` on the recorded reply, priced by litellm's `response_cost_calculator`."""

from __future__ import annotations

from typing import Any

from .base import ENCODING, Built, QuietLogging, dumps, http_response, model_response, optional_params, price


def _config(provider: str, name: str) -> Any:
    """The provider config, a fresh one per call as litellm's handler takes it."""
    from litellm.types.utils import LlmProviders
    from litellm.utils import ProviderConfigManager

    return ProviderConfigManager.get_provider_chat_config(model=name, provider=LlmProviders(provider))


def build_with(provider: str, name: str, kwargs: dict[str, Any], api_base: str, params: dict[str, Any],
               headers: dict[str, Any]) -> Built | None:
    """The request and converter of the handler's sync, non-streamed call, given what the
    provider's entry in `completion` settled (api_base, optional params, headers)."""
    config = _config(provider, name)
    api_key = kwargs.get("api_key")
    json_mode = bool(params.pop("json_mode", False))
    extra_body = params.pop("extra_body", None)
    if params.pop("fake_stream", False) or params.get("stream"):
        return None
    messages = list(kwargs["messages"])
    request_headers = config.validate_environment(api_key=api_key, headers=headers, model=name, messages=messages,
                                                  optional_params=params, api_base=api_base, litellm_params={})
    url = config.get_complete_url(api_base=api_base, api_key=api_key, model=name, optional_params=params,
                                  stream=False, litellm_params={})
    data = config.transform_request(model=name, messages=messages, optional_params=params, litellm_params={},
                                    headers=request_headers)
    if extra_body is not None:
        data = {**data, **config.transform_extra_body(extra_body=extra_body, request=data, model=name, litellm_params={})}
    _, signed = config.sign_request(headers=request_headers, optional_params=params, request_data=data,
                                    api_base=url, api_key=api_key, stream=False, fake_stream=False, model=name)
    body = signed if isinstance(signed, bytes) else dumps(data)

    def convert(raw: bytes) -> Any:
        response = config.transform_response(
            model=name, raw_response=http_response(url, raw), model_response=model_response(provider),
            logging_obj=QuietLogging(), api_key=api_key, request_data=data, messages=messages,
            optional_params=params, litellm_params={}, encoding=ENCODING, json_mode=json_mode)
        return price(response, provider, name, params)

    return Built(url, body, convert)


def openrouter(provider: str, name: str, kwargs: dict[str, Any]) -> Built | None:
    """OpenRouter as `completion` enters it: its default base, the referer and title headers,
    the class-level OpenrouterConfig merged into the params."""
    import litellm

    params = optional_params(provider, name, kwargs)
    for k, v in litellm.OpenrouterConfig.get_config().items():  # type: ignore[no-untyped-call]  # litellm leaves it untyped
        if k == "extra_body":
            params.setdefault("extra_body", {}).update(v)
        elif k not in params:
            params[k] = v
    headers = {"HTTP-Referer": "https://litellm.ai", "X-Title": "liteLLM"}
    if _env_overrides():
        return None  # site url, app name or base from the environment: the full path reads them
    return build_with(provider, name, kwargs, str(kwargs.get("api_base") or "https://openrouter.ai/api/v1"),
                      params, headers)


def _env_overrides() -> bool:
    import os

    return any(os.environ.get(k) for k in ("OR_SITE_URL", "OR_APP_NAME", "OPENROUTER_API_BASE"))

