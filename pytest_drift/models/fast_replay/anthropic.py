"""Anthropic's Messages API (`anthropic/...`), thinking and redacted_thinking included: the
body is what litellm's Anthropic handler sends (litellm's `get_optional_params`, the
config's `validate_environment` and `transform_request`, then the handler's beta-header and
beta-gated-field filters), the reply goes through the config's `transform_response`, and
the price is litellm's `response_cost_calculator`."""

from __future__ import annotations

import copy
from typing import Any

from .base import ENCODING, Built, QuietLogging, dumps, http_response, model_response, optional_params, price

ANTHROPIC_BASE = "https://api.anthropic.com/v1/messages"


def _config() -> Any:
    """A fresh config per call, as litellm's handler makes one."""
    from litellm.llms.anthropic.chat.transformation import AnthropicConfig

    return AnthropicConfig()


def build(provider: str, name: str, kwargs: dict[str, Any]) -> Built | None:
    from litellm.anthropic_beta_gated_fields import strip_beta_gated_request_body
    from litellm.anthropic_beta_headers_manager import update_request_with_filtered_beta
    from litellm.litellm_core_utils.url_utils import ensure_api_route

    config = _config()
    url = ensure_api_route(str(kwargs.get("api_base") or ANTHROPIC_BASE), "v1/messages")
    params = optional_params(provider, name, kwargs)
    params.pop("stream", None)
    json_mode = bool(params.pop("json_mode", False))
    if params.pop("is_vertex_request", False):
        return None
    params.pop("vertex_count_tokens_location", None)
    messages = copy.deepcopy(kwargs["messages"])  # the handler's copy: the transformation edits it
    headers = config.validate_environment(api_key=kwargs.get("api_key"), headers={}, model=name, messages=messages,
                                          optional_params={**params, "is_vertex_request": False},
                                          litellm_params={}, api_base=url)
    data = config.transform_request(model=name, messages=messages,
                                    optional_params={**params, "is_vertex_request": False},
                                    litellm_params={}, headers=headers)
    headers, data = update_request_with_filtered_beta(headers=headers, request_data=data, provider=provider,
                                                      api_base=url)
    data = dict(strip_beta_gated_request_body(data, headers, drop_params=None, model=name, provider=provider))

    def convert(raw: bytes) -> Any:
        response = config.transform_response(
            model=name, raw_response=http_response(url, raw), model_response=model_response(provider),
            logging_obj=QuietLogging(), api_key=kwargs.get("api_key"), request_data=data, messages=messages,
            optional_params=params, litellm_params={}, encoding=ENCODING, json_mode=json_mode)
        return price(response, provider, name, params)

    return Built(url, dumps(data), convert)

