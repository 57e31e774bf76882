"""OpenAI's Responses API through litellm's chat bridge (`openai/responses/<model>`, a
reasoning summary asked for): the steps litellm's bridge and `litellm.responses` take for a
sync, non-streamed call - litellm's `get_optional_params`, the bridge's `transform_request`
(chat messages and tools as Responses input items), the Responses parameter filter and
mapping, then the OpenAI Responses config's `transform_responses_api_request` - and, on the
recorded reply, the config's `transform_response_api_response`, the id stamping and the
bridge's `transform_response` back to chat (summaries as `reasoning_content`, the reasoning
items for the echo), priced by litellm's `response_cost_calculator` with the route as given."""

from __future__ import annotations

from typing import Any

from ..providers import RESPONSES_ROUTE as ROUTE  # the Responses route is the provider room's
from .base import ENCODING, Built, QuietLogging, dumps, http_response, model_response, optional_params, price

OPENAI_BASE = "https://api.openai.com/v1"


class _BridgeLogging(QuietLogging):
    """What the bridge records on the logging object: nothing to record in a replay."""

    def record_bridged_chat_request(self, *args: Any, **kwargs: Any) -> None:
        pass


def build(provider: str, name: str, kwargs: dict[str, Any]) -> Built | None:
    from litellm.completion_extras.litellm_responses_transformation.transformation import (
        LiteLLMResponsesTransformationHandler,
    )
    from litellm.llms.openai.responses.transformation import OpenAIResponsesAPIConfig
    from litellm.responses.utils import ResponsesAPIRequestUtils
    from litellm.types.router import GenericLiteLLMParams

    if provider != "openai" or not name.startswith(ROUTE) or not isinstance(kwargs.get("reasoning_effort"), dict):
        return None  # only the route the plan sends: an effort and a summary, as a dict
    model = name[len(ROUTE):]
    api_base = str(kwargs.get("api_base") or OPENAI_BASE)
    api_key = kwargs.get("api_key")
    params = _bridged_params(provider, model, api_base, kwargs)
    if params is None or params.get("stream"):
        return None
    bridge: Any = LiteLLMResponsesTransformationHandler()  # type: ignore[no-untyped-call]  # litellm leaves it untyped
    litellm_params = {"api_key": api_key, "api_base": api_base, "custom_llm_provider": provider,
                      "max_retries": kwargs.get("max_retries"), "timeout": kwargs.get("timeout")}
    logging: Any = _BridgeLogging(params)  # stands in for litellm's Logging, as in the other converters
    messages = list(kwargs["messages"])
    request = bridge.transform_request(model=model, messages=messages, optional_params=dict(params),
                                       litellm_params=dict(litellm_params), headers={}, litellm_logging_obj=logging,
                                       client=None)
    requested = ResponsesAPIRequestUtils.get_requested_response_api_optional_param(
        {k: v for k, v in request.items() if k != "reasoning_effort"})
    config: Any = OpenAIResponsesAPIConfig()  # type: ignore[no-untyped-call]  # litellm leaves it untyped
    response_params = ResponsesAPIRequestUtils.get_optional_params_responses_api(
        model=model, responses_api_provider_config=config, response_api_optional_params=requested,
        allowed_openai_params=None, drop_params=None, declared_reasoning_efforts=())
    if response_params.get("stream") or request.get("extra_body"):
        return None
    generic = GenericLiteLLMParams(api_key=api_key, api_base=api_base)
    headers = config.validate_environment(headers={}, model=model, litellm_params=generic)
    url = config.get_complete_url(api_base=api_base, litellm_params=dict(generic))
    items = ResponsesAPIRequestUtils.restore_encrypted_content_item_ids_in_input(request["input"])
    data = config.transform_responses_api_request(model=model, input=items,
                                                  response_api_optional_request_params=response_params,
                                                  litellm_params=generic, headers=headers)
    data = config.normalize_responses_api_request_dict(data)
    request_data = {**request, "model": f"{provider}/{model}", "custom_llm_provider": provider}

    def convert(raw: bytes) -> Any:
        answer = config.transform_response_api_response(model=model, raw_response=http_response(url, raw),
                                                        logging_obj=logging)
        answer = ResponsesAPIRequestUtils.update_responses_api_response_id_with_model_id(
            responses_api_response=answer, litellm_metadata={}, custom_llm_provider=provider)
        response = bridge.transform_response(
            model=model, raw_response=answer, model_response=model_response(provider), logging_obj=logging,
            request_data=request_data, messages=messages, optional_params=params, litellm_params=litellm_params,
            encoding=ENCODING, api_key=api_key, json_mode=None)
        return price(response, provider, name, params)

    return Built(url, dumps(data), convert)


def _bridged_params(provider: str, model: str, api_base: str, kwargs: dict[str, Any]) -> dict[str, Any] | None:
    """The optional params `completion` hands the bridge: litellm's `get_optional_params`,
    its summary-alias strip (which drops the empty extra_body) and its `bridge_reasoning` in
    place of the mapped effort; None where litellm refuses a reasoning field (the full path
    raises that)."""
    from litellm.responses.utils import RefusedReasoningFields, bridge_reasoning
    from litellm.utils import strip_reasoning_summary_aliases_from_optional_params

    params, alias = strip_reasoning_summary_aliases_from_optional_params(optional_params(provider, model, kwargs))
    if alias is not None:
        return None
    bridged = bridge_reasoning(requested=kwargs["reasoning_effort"], effort_kept="reasoning_effort" in params,
                               summary_alias=None, model=model, base_model=None, custom_llm_provider=provider,
                               api_base=api_base, deployment_model_info={}, drop_params=False,
                               additional_drop_params=None)
    if isinstance(bridged, RefusedReasoningFields):
        return None
    params["reasoning_effort"] = bridged
    return params
