"""Replaying a recorded call without litellm's request machinery and HTTP stack.

A replayed call through `litellm.completion` costs ~3.7 ms of CPU (parameter processing,
the OpenAI SDK, httpx, vcrpy's stubs, a price lookup), which made a whole shipped replay
spend most of its time re-doing what the recording already settled. Where the request is
one litellm sends unchanged - an OpenAI-format chat call of an unpriced model, carrying
only messages, tools and the plain sampling fields - the body is built here, matched
against the episode's own vcrpy cassette with the cassette's own matchers and play
bookkeeping, and the recorded reply is handed to litellm's own converter.

Sound by construction: a request that matches a recorded one is (key order aside) what
litellm sent when it recorded it, already in the form litellm's normalisation gives (fields
set to None dropped, tool calls as JSON), which that normalisation leaves as it is: the full
path would have sent the same body and played the same interaction. Where this module's
body differs from litellm's, the cost is a miss here and the full path, never a wrong answer. Anything else - another provider, reasoning or thinking settings, a priced
model, no match, a recorded error status - returns None and takes the full path, which
plays, maps or reports exactly as before. `PYTEST_DRIFT_FULL_REPLAY=1` turns this off
(the equivalence test replays every shipped cassette both ways).
"""

from __future__ import annotations

import json
import os
from functools import cache
from typing import Any

from .litellm_import import litellm_module
from .router import current_cassette

OFF_ENV = "PYTEST_DRIFT_FULL_REPLAY"
# What litellm's OpenAI route sends as given (anything else may be renamed, dropped or added)
BODY_FIELDS = ("model", "messages", "temperature", "max_tokens", "seed", "tools", "tool_choice")
CLIENT_FIELDS = frozenset({"num_retries", "max_retries", "timeout", "api_base", "api_key"})  # never in the body
OPENAI_BASE = "https://api.openai.com/v1"


def enabled() -> bool:
    return os.environ.get(OFF_ENV, "") in ("", "0")


def request_of(kwargs: dict[str, Any]) -> tuple[str, bytes] | None:
    """(url, body) litellm's OpenAI route sends for these completion kwargs, or None when it
    may transform them (another provider, a field outside the plain set, a priced model)."""
    provider, _, name = str(kwargs.get("model", "")).partition("/")
    if provider != "openai" or not name or set(kwargs) - CLIENT_FIELDS - set(BODY_FIELDS):
        return None
    if not kwargs.get("messages") or ("tools" in kwargs and not kwargs["tools"]) or _priced(name):
        return None  # (litellm drops an empty tool list and its tool_choice)
    body = {k: kwargs[k] for k in BODY_FIELDS if k in kwargs}
    body["model"], body["messages"] = name, [_without_nones(m) for m in kwargs["messages"]]
    base = str(kwargs.get("api_base") or OPENAI_BASE).rstrip("/")
    return f"{base}/chat/completions", json.dumps(body, separators=(",", ":")).encode()


def _without_nones(message: dict[str, Any]) -> dict[str, Any]:
    """A message as litellm sends it: fields set to None left out (e.g. the content of an
    assistant turn that only called a tool)."""
    if all(v is not None for v in message.values()):
        return message
    return {k: v for k, v in message.items() if v is not None}


@cache
def _priced(name: str) -> bool:
    """Whether litellm's price table knows the model: its cost would have to be computed the
    way litellm's logging computes it, so such calls take the full path."""
    try:
        info = litellm_module().get_model_info(model=name, custom_llm_provider="openai")
    except Exception:
        return False
    return bool(info.get("input_cost_per_token") or info.get("output_cost_per_token"))


def replayed(kwargs: dict[str, Any]) -> Any | None:
    """litellm's ModelResponse for the recorded answer to this request, the interaction
    marked played as vcrpy marks it; None where the full path must run."""
    cassette = current_cassette()
    if cassette is None or not cassette.write_protected or not enabled():
        return None
    request = request_of(kwargs)
    if request is None:
        return None
    from vcr.request import Request

    vcr_request = Request("POST", request[0], request[1], {"content-type": "application/json"})
    recorded = _next_unplayed(cassette, vcr_request)
    if recorded is None or (recorded.get("status") or {}).get("code") != 200:
        return None  # a miss or a recorded error: the full path reports or maps it
    data = _json(recorded)
    if data is None:
        return None
    cassette.play_response(vcr_request)  # vcrpy's bookkeeping: the same interaction, now played
    return _model_response(data)


def _next_unplayed(cassette: Any, request: Any) -> dict[str, Any] | None:
    """The response vcrpy's `play_response` would hand out, without marking it played."""
    for index, response in cassette._responses(request):
        if cassette.play_counts[index] == 0 or cassette.allow_playback_repeats:
            return response
    return None


def _json(recorded: dict[str, Any]) -> dict[str, Any] | None:
    body = (recorded.get("body") or {}).get("string")
    if isinstance(body, bytes):
        body = body.decode("utf-8")
    try:
        data = json.loads(body) if isinstance(body, str) else None
    except ValueError:
        return None
    return data if isinstance(data, dict) and data.get("choices") else None


def _model_response(data: dict[str, Any]) -> Any:
    """The reply as litellm's OpenAI route builds it (its converter), unpriced as litellm's
    logging would leave it for a model its table does not know."""
    litellm = litellm_module()
    from litellm.litellm_core_utils.llm_response_utils.convert_dict_to_response import (
        convert_to_model_response_object,
    )

    response = convert_to_model_response_object(response_object=data, model_response_object=litellm.ModelResponse(),
                                                 _response_headers={"content-type": "application/json"})
    response._hidden_params["response_cost"] = None
    return response
