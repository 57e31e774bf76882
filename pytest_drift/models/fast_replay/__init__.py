"""Replaying a recorded call without litellm's request machinery and HTTP stack.

A replayed call through `litellm.completion` costs ~3-5 ms of CPU (parameter processing,
the provider's SDK or HTTP handler, httpx, vcrpy's stubs, logging, a price lookup), which
made a replay spend most of its time re-doing what the recording already settled. Here each
provider family's converter (`openai_chat`, `responses`, `anthropic`, `gemini`, `openrouter`) builds the
request body with litellm's own parameter mapping and request transformation, the body is
matched against the episode's own vcrpy cassette with the cassette's own matchers and play
bookkeeping, and the recorded reply goes through litellm's own response transformation and,
for a priced model, litellm's own cost function (`response_cost_calculator`, what its
logging calls).

Sound by construction: a request that matches a recorded one is what litellm sent when it
recorded it, so the full path would have sent the same body and played the same
interaction. Where a converter's body differs from litellm's, the cost is a miss here and
the full path, never a wrong answer. Anything else - a provider without a converter, a
setting outside the mapped ones, no match, a recorded error status - returns None and takes
the full path, which plays, maps or reports exactly as before. `PYTEST_DRIFT_FULL_REPLAY=1`
turns this off (the equivalence tests replay recordings both ways).
"""

from __future__ import annotations

import os
from typing import Any, Callable

from ..providers import OPENAI_RESPONSES, provider_of
from ..router import current_cassette
from . import anthropic, gemini, http_handler, openai_chat, responses
from .base import Built, split

OFF_ENV = "PYTEST_DRIFT_FULL_REPLAY"

# provider (litellm's prefix; OpenAI's Responses route as `openai/responses`) -> its family's
# converter: (provider, name, kwargs) -> Built | None
CONVERTERS: dict[str, Callable[[str, str, dict[str, Any]], Built | None]] = {
    "openai": openai_chat.build,
    "openai/responses": responses.build,
    "anthropic": anthropic.build,
    "openrouter": http_handler.openrouter,
    "gemini": gemini.build,
}


def enabled() -> bool:
    return os.environ.get(OFF_ENV, "") in ("", "0")


def built(kwargs: dict[str, Any]) -> Built | None:
    """The request litellm sends for these completion kwargs, with its converter; None where
    no converter takes the call (the full path runs)."""
    call = split(kwargs)
    if call is None:
        return None
    # the provider room decides what a model string routes to; the Responses API has its own converter
    route = "openai/responses" if provider_of(str(kwargs["model"])) is OPENAI_RESPONSES else call[0]
    convert = CONVERTERS.get(route)
    if convert is None:
        return None
    try:
        return convert(call[0], call[1], kwargs)
    except Exception:
        return None


def request_of(kwargs: dict[str, Any]) -> tuple[str, bytes] | None:
    """(url, body) litellm sends for these completion kwargs, or None where none is built."""
    request = built(kwargs)
    return None if request is None else (request.url, request.body)


def replayed(kwargs: dict[str, Any]) -> Any | None:
    """litellm's ModelResponse for the recorded answer to this request, the interaction
    marked played as vcrpy marks it; None where the full path must run."""
    cassette = current_cassette()
    if cassette is None or not cassette.write_protected or not enabled():
        return None
    request = built(kwargs)
    if request is None:
        return None
    from vcr.request import Request

    vcr_request = Request("POST", request.url, request.body, {"content-type": "application/json"})
    recorded = _next_unplayed(cassette, vcr_request)
    if recorded is None or (recorded.get("status") or {}).get("code") != 200:
        return None  # a miss or a recorded error: the full path reports or maps it
    raw = (recorded.get("body") or {}).get("string")
    if isinstance(raw, str):
        raw = raw.encode("utf-8")
    if not isinstance(raw, bytes):
        return None
    try:
        response = request.convert(raw)
    except Exception:
        return None
    if response is None:
        return None
    cassette.play_response(vcr_request)  # vcrpy's bookkeeping: the same interaction, now played
    return response


def _next_unplayed(cassette: Any, request: Any) -> dict[str, Any] | None:
    """The response vcrpy's `play_response` would hand out, without marking it played."""
    for index, response in cassette._responses(request):
        if cassette.play_counts[index] == 0 or cassette.allow_playback_repeats:
            return response
    return None
