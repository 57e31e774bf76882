"""Live models through litellm.completion: request shape, rate limits and retries
(`ratelimit`), usage to the episode's meter (`usage`), failures mapped to our errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ..errors import CassetteMiss, ContextExhausted, ProviderError, redact
from .fast_replay import replayed
from .litellm_import import completion, litellm_module
from .prices import Price, call_cost
from .providers import OPENAI_CHAT, Provider, provider_of
from .ratelimit import Attempts, GaveUp, Kind, call_with_retries, provider_limit, retry_policy
from .recorded import settings_change
from .reply import ModelReply, ModelToolCall, wire_messages
from .request import RequestPlan
from .router import played_count, replaying
from .usage import CallEvent, Usage, record_call, usage_of
from .wire import call_fields, echo_of, reply_reasoning

if TYPE_CHECKING:
    from ..world import Message

REQUEST_TIMEOUT = 120.0
_TRANSIENT = ("RateLimitError", "InternalServerError", "ServiceUnavailableError", "Timeout",
              "APIConnectionError", "BadGatewayError")
_CONTEXT_RE = re.compile(r"context (?:window|length)|maximum context|too many tokens", re.IGNORECASE)


def _dumps(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True)


def find_cassette_miss(exc: BaseException) -> BaseException | None:
    """vcrpy's miss arrives wrapped by the SDK and litellm: walk the cause chain."""
    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if type(cur).__name__ == "CannotOverwriteExistingCassetteException":
            return cur
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return None


def to_reply(response: Any, provider: Provider = OPENAI_CHAT) -> ModelReply:
    """Normalise a litellm ModelResponse; tolerate anything a provider might send. Reasoning
    is kept apart from the text, and what must go back to the provider with the turn (the
    provider record's echo rule) is kept as sent (`ModelReply.echo`, a call's `provider_fields`)."""
    choices = getattr(response, "choices", None) or []
    message = getattr(choices[0], "message", None) if choices else None
    if message is None:
        return ModelReply(content=None, empty=True)
    calls = []
    for tc in getattr(message, "tool_calls", None) or []:
        fn = getattr(tc, "function", None)
        name = getattr(fn, "name", None) or ""
        arguments = getattr(fn, "arguments", None)
        calls.append(ModelToolCall(name=str(name), arguments=arguments if isinstance(arguments, str) else
                                   (_dumps(arguments) if arguments is not None else None),
                                   provider_fields=call_fields(provider, tc)))
    reasoning = reply_reasoning(message)
    content = getattr(message, "content", None)
    if not calls and not content:
        return ModelReply(content=None, empty=True, reasoning=reasoning)
    return ModelReply(content=content if isinstance(content, str) else None, tool_calls=tuple(calls),
                      reasoning=reasoning, echo=echo_of(provider, message))


@dataclass
class LiteLLMCaller:
    """Calls one model through litellm; maps failures to ProviderError / CassetteMiss."""

    model: str
    seed: int
    api_base: str | None = None
    api_key: str | None = None
    cassette: str = ""
    max_in_flight: int | None = None  # the endpoint's own cap on requests in flight (else the run's concurrency)
    # sampling, output cap, reasoning, seed: what this model accepts (models.request; default: seed only)
    plan: RequestPlan = field(default_factory=lambda: RequestPlan(""))
    price: Price | None = None  # a configured price (USD per million tokens) over litellm's table

    def request_kwargs(self, messages: list[Message], tools: list[dict[str, Any]]) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"model": self.model, "messages": wire_messages(messages), "tools": tools,
                                  "tool_choice": "auto", **self.plan.params}
        if self.plan.send_seed:
            kwargs["seed"] = self.seed
        kwargs.update({"num_retries": 0, "max_retries": 0, "timeout": REQUEST_TIMEOUT})
        if self.api_base:
            kwargs["api_base"] = self.api_base
        if self.api_key:
            kwargs["api_key"] = self.api_key
        return kwargs

    def __call__(self, messages: list[Message], tools: list[dict[str, Any]]) -> ModelReply:
        return to_reply(self._complete(self.request_kwargs(messages, tools)), provider_of(self.model))

    def text(self, messages: list[Message]) -> str:
        """A plain-text answer (no tools): how a world's own agent (e.g. an adversary) speaks."""
        kwargs = self.request_kwargs(messages, [])
        del kwargs["tools"], kwargs["tool_choice"]
        return to_reply(self._complete(kwargs), provider_of(self.model)).content or ""

    def _complete(self, kwargs: dict[str, Any]) -> Any:
        """One completion within the endpoint's adaptive limit, retried as `ratelimit` says;
        its usage goes to the episode's meter. What still fails is raised as ProviderError
        (not transient: the retries are done), CassetteMiss or ContextExhausted."""
        litellm = litellm_module()
        replay, played = replaying(), played_count()
        if replay:
            response = replayed(kwargs)  # the recorded answer without litellm's HTTP stack, where sound
            if response is not None:
                record_call(CallEvent(self._usage(response), 0, 0, 0.0, sent=False))
                return response
        # a resumed episode records, yet plays its journal's answers: those reached no provider

        def sent() -> bool:
            return not (replay or played_count() > played)

        try:
            response, attempts = call_with_retries(
                lambda: completion(litellm, kwargs), limit=provider_limit(self.model, self.api_base, self.max_in_flight),
                policy=retry_policy(), kind_of=_kind, headers_of=_headers, wait=not replay)
        except GaveUp as gave_up:
            a = gave_up.attempts
            record_call(CallEvent(None, a.retries, a.rate_limit_waits, a.waited_s, sent=sent()))
            raise self._error(gave_up.last, a.retries) from None
        except Exception as exc:
            a = getattr(exc, "attempts", None) or Attempts()
            record_call(CallEvent(None, a.retries, a.rate_limit_waits, a.waited_s, sent=sent()))
            raise self._error(exc, a.retries) from None
        record_call(CallEvent(self._usage(response), attempts.retries, attempts.rate_limit_waits, attempts.waited_s,
                              sent=sent()))
        return response

    def _usage(self, response: Any) -> Usage:
        """The response's usage, priced as `prices.call_cost` says (unpriced: None, never 0)."""
        usage = usage_of(response)
        usage.cost_usd = call_cost(self.model, self.price, usage.prompt_tokens, usage.completion_tokens,
                                   usage.cost_usd, response)
        return usage

    def _error(self, exc: BaseException, retries: int) -> Exception:
        miss = find_cassette_miss(exc)
        if miss is not None:
            return CassetteMiss(self.cassette, str(miss).splitlines()[0][:300], settings=_settings_change(miss))
        name = type(exc).__name__
        if name == "ContextWindowExceededError" or _CONTEXT_RE.search(str(exc)):
            return ContextExhausted(redact(f"{name}: {str(exc)[:200]}"))
        after = f" (after {retries} retries)" if retries else ""
        return ProviderError(redact(f"{name}: {str(exc)[:300]}{after}"))


def _settings_change(miss: BaseException) -> str:
    """How the missed request's sampling and reasoning differ from the recording's (a run at
    another effort or budget must not replay, and must say why)."""
    cassette, failed = getattr(miss, "cassette", None), getattr(miss, "failed_request", None)
    recorded = getattr(cassette, "requests", None) or []
    if failed is None or not recorded:
        return ""
    return settings_change(recorded[0].body, failed.body)


def _kind(exc: BaseException) -> Kind:
    if find_cassette_miss(exc) is not None:
        return "fatal"
    name = type(exc).__name__
    if name == "RateLimitError":
        return "rate_limited"
    return "transient" if name in _TRANSIENT else "fatal"


def _headers(exc: BaseException) -> Any:
    response = getattr(exc, "response", None)
    return getattr(response, "headers", None) or getattr(exc, "litellm_response_headers", None)
