"""Gemini through Google AI Studio (`gemini/...`): the body is what litellm's Gemini handler
sends (litellm's `get_optional_params`, its URL and `sync_transform_request_body`), the
reply goes through the handler's own long-decode merge and `_transform_long_decode_hops`
(a reply that asks for a continuation hop takes the full path), priced by litellm's
`response_cost_calculator`. Vertex AI (credentials, projects) keeps the full path."""

from __future__ import annotations

import copy
import os
from functools import lru_cache
from typing import Any

from .base import Built, QuietLogging, dumps, http_response, model_response, optional_params, price

# the environment `completion` reads for this route: set, the full path decides
_ENV = ("VERTEXAI_PROJECT", "VERTEXAI_LOCATION", "VERTEXAI_CREDENTIALS", "GEMINI_API_BASE")


class _Continuation(Exception):
    """The recorded reply asks for another hop: only the full path plays that."""


@lru_cache(maxsize=1)
def _handler() -> Any:
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import VertexLLM

    return VertexLLM()


def build(provider: str, name: str, kwargs: dict[str, Any]) -> Built | None:
    if provider != "gemini" or any(os.environ.get(k) for k in _ENV):
        return None
    from litellm.llms.vertex_ai.gemini.long_decode import collect_hops_sync, parse_body
    from litellm.llms.vertex_ai.gemini.transformation import sync_transform_request_body
    from litellm.llms.vertex_ai.gemini.vertex_and_google_ai_studio_gemini import _transform_long_decode_hops

    handler = _handler()
    params = optional_params(provider, name, kwargs)
    if params.pop("stream", None) or any(k.startswith("vertex") for k in params):
        return None
    logged = QuietLogging(copy.deepcopy(params))  # completion's logging object holds its own params
    api_key, api_base = kwargs.get("api_key"), kwargs.get("api_base")
    auth_header, project = handler._ensure_access_token(credentials=None, project_id=None, custom_llm_provider="gemini")
    auth_header, url = handler._get_token_and_url(
        model=name, gemini_api_key=api_key, auth_header=auth_header, vertex_project=project, vertex_location=None,
        vertex_credentials=None, stream=None, custom_llm_provider="gemini", api_base=api_base,
        use_psc_endpoint_format=False)
    messages = copy.deepcopy(kwargs["messages"])
    data = sync_transform_request_body(
        gemini_api_key=api_key, messages=messages, api_base=api_base, model=name, client=None,
        timeout=kwargs.get("timeout"), extra_headers={}, optional_params=params,
        logging_obj=QuietLogging(),  # type: ignore[arg-type]  # the calls read no logging: a quiet stand-in
        custom_llm_provider="gemini", litellm_params={}, vertex_project=project, vertex_location=None,
        vertex_auth_header=auth_header)
    if "cachedContent" in data or "continuationToken" in data:
        return None  # a context cache or a continuation: requests beyond this one, the full path's

    def no_hop(body: Any) -> Any:
        raise _Continuation()

    def convert(raw: bytes) -> Any:
        first = http_response(url, raw)
        hops = collect_hops_sync(parse_body(first), data, no_hop)  # raises where a hop would be posted
        response = _transform_long_decode_hops(model=name, hops=hops, first_response=first,
                                               model_response=model_response(provider),
                                               logging_obj=logged,  # type: ignore[arg-type]  # as above
                                               request_body=data, messages=messages)
        return price(response, provider, name, params)

    return Built(url, dumps(dict(data)), convert)
