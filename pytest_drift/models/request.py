"""What a live model's requests carry, decided once per model from what the run asked for and
what the provider accepts (litellm's own tables): sampling, the output cap, the seed, and
reasoning (an effort, or an extended-thinking budget).

Nothing is sent that the provider refuses: a default the provider cannot take is dropped or
changed and the change is written down (`RequestPlan.changes`, which reaches every outcome's
provenance and the run's manifest); a value the user asked for that cannot work is a
`RequestError` before any call. The rules, in order:

What each provider accepts is its record in `providers` (no provider string is tested here).

- `seed` goes only where litellm lists it and the record allows it (Anthropic, the Responses
  API take none).
- A reasoning summary (`reasoning_summary`) routes an OpenAI reasoning model through the
  Responses API (`openai/responses/<model>`, `reasoning_effort={"effort": E, "summary": S}`).
- With reasoning on (an effort, a thinking budget, or an OpenAI reasoning model, which always
  reasons) the temperature is not sent unless it is 1, the only one those APIs accept.
- With reasoning on, `max_tokens` (the room of the visible answer) is raised by the reasoning
  allowance: the thinking budget, litellm's budget for an effort on Anthropic, or
  `REASONING_ROOM[effort]` elsewhere (OpenAI counts reasoning inside the cap) - and kept
  within the model's output limit when litellm knows it.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

from ..errors import DriftError
from .providers import SUMMARIES, Provider, base_name, provider_of, responses_route

EFFORTS = ("minimal", "low", "medium", "high")
# OpenAI-style caps count reasoning tokens: room added to the visible answer's cap per effort
REASONING_ROOM = {"minimal": 1024, "low": 4096, "medium": 16384, "high": 32768}
LOCAL_TEMPERATURE = 0.0  # greedy decoding of the embedded model: reproducible recordings
LOCAL_MAX_TOKENS = 512  # an agent step needs a sentence and one call; a small model rambles to n_ctx
HOSTED_MAX_TOKENS = 4000  # hosted models: room for a long visible answer


class RequestError(DriftError):
    """A request setting that cannot work with this model (a usage error, before any call)."""


@dataclass(frozen=True)
class Decoding:
    """What a run asks of a model's requests; None: the default of the model's kind."""

    temperature: float | None = None
    max_tokens: int | None = None  # 0: none sent
    reasoning_effort: str | None = None
    thinking_tokens: int | None = None
    reasoning_summary: str | None = None  # auto / concise / detailed: OpenAI's Responses API

    def over(self, base: Decoding) -> Decoding:
        """These settings where given, `base`'s elsewhere (a model's own over the run's)."""
        return Decoding(**{f.name: getattr(self, f.name) if getattr(self, f.name) is not None else getattr(base, f.name)
                           for f in fields(self)})

    @property
    def reasoning(self) -> bool:
        return self.reasoning_effort is not None or self.thinking_tokens is not None


@dataclass(frozen=True)
class RequestPlan:
    """The parameters every request of one model carries (besides model, messages, tools)."""

    model: str
    params: dict[str, Any] = field(default_factory=dict)
    send_seed: bool = True
    changes: tuple[str, ...] = ()  # what differs from what was asked, and why
    reasoning_room: int = 0  # the part of max_tokens set aside for reasoning (0: none)
    route: str = ""  # the litellm model string called when it is not `model` (the Responses API bridge)
    summary: str | None = None  # the reasoning summary asked for

    @property
    def called(self) -> str:
        """The litellm model string the requests go to."""
        return self.route or self.model

    def provenance(self) -> dict[str, Any]:
        """JSON for an outcome's provenance and the manifest: what was sent, what was changed,
        and which API when it is not the model's usual one."""
        out: dict[str, Any] = {"params": dict(sorted(self.params.items())), "seed_sent": self.send_seed,
                               "changes": list(self.changes)}
        if self.route:
            out.update(api=provider_of(self.route).api, route=self.route, reasoning_summary=self.summary)
        return out


@dataclass(frozen=True)
class _Model:
    """What litellm knows of a model: its accepted parameters and limits (None: unknown)."""

    provider: str
    name: str
    record: Provider
    supported: frozenset[str] | None
    known: bool
    reasons: bool | None  # litellm's supports_reasoning
    max_output: int | None


@lru_cache(maxsize=256)
def _model(model: str) -> _Model:
    from .litellm_import import litellm_module

    litellm = litellm_module()
    provider, _, name = model.partition("/")
    try:
        supported = litellm.get_supported_openai_params(model=name, custom_llm_provider=provider)
    except Exception:
        supported = None
    try:
        info = litellm.get_model_info(name, custom_llm_provider=provider)
    except Exception:
        info = None
    return _Model(provider, name, provider_of(model), frozenset(supported) if supported else None, info is not None,
                  info.get("supports_reasoning") if info else None, info.get("max_output_tokens") if info else None)


def _always_reasons(m: _Model) -> bool:
    """A family whose reasoning models reason whatever is asked (and refuse other temperatures)."""
    return m.record.always_reasons and bool(m.reasons)


def _effort_budget(m: _Model, effort: str) -> int | None:
    """The thinking budget litellm sends for an effort, where the provider maps efforts to one."""
    return m.record.effort_budget(effort, m.name) if m.record.effort_budget else None


def _check_reasoning(m: _Model, d: Decoding, label: str) -> None:
    if d.reasoning_effort is not None and d.thinking_tokens is not None:
        raise RequestError(f"{label}: give a reasoning effort or a thinking budget, not both")
    if d.reasoning and m.reasons is False:
        raise RequestError(f"{label}: litellm knows {m.provider}/{m.name} as a model without reasoning; "
                           "drop --drift-reasoning-effort / --drift-thinking-tokens for it")
    if d.reasoning_effort is not None:
        if d.reasoning_effort not in EFFORTS:
            raise RequestError(f"{label}: reasoning effort must be one of {', '.join(EFFORTS)}, got {d.reasoning_effort!r}")
        if m.supported is not None and "reasoning_effort" not in m.supported:
            raise RequestError(f"{label}: {m.provider}/{m.name} takes no reasoning effort")
        allowed = m.record.minimal_effort_models
        name = base_name(f"{m.provider}/{m.name}")
        if d.reasoning_effort == "minimal" and allowed is not None and not name.startswith(allowed):
            raise RequestError(f"{label}: effort 'minimal' exists only for the {', '.join(allowed)} family; "
                               "use low, medium or high")
    if d.thinking_tokens is not None:
        if m.supported is not None and "thinking" not in m.supported:
            raise RequestError(f"{label}: {m.provider}/{m.name} takes no thinking budget "
                               "(extended thinking is Anthropic's and Gemini's); use --drift-reasoning-effort")
        if d.thinking_tokens < m.record.thinking_min:
            raise RequestError(f"{label}: the {m.record.family} thinking budget is at least {m.record.thinking_min} "
                               f"tokens, got {d.thinking_tokens}")
        if m.max_output is not None and d.thinking_tokens >= m.max_output:
            raise RequestError(f"{label}: a thinking budget of {d.thinking_tokens} leaves no room under "
                               f"{m.provider}/{m.name}'s output limit of {m.max_output} tokens")


def _temperature(m: _Model, d: Decoding, default: float | None, reasoning: bool, label: str,
                 changes: list[str]) -> float | None:
    asked = d.temperature
    t = asked if asked is not None else default
    if t is None:
        return None
    if m.supported is not None and "temperature" not in m.supported:
        if asked is not None:
            raise RequestError(f"{label}: {m.provider}/{m.name} takes no temperature")
        changes.append(f"temperature {t:g} not sent: {m.provider}/{m.name} takes none")
        return None
    if reasoning and t not in m.record.reasoning_temperatures:
        if asked is not None:
            raise RequestError(f"{label}: with reasoning on, {m.provider}/{m.name} accepts only temperature "
                               f"{_temps(m.record)} (got {t:g}); drop --drift-temperature")
        changes.append(f"temperature {t:g} not sent: reasoning is on and the provider accepts only {_temps(m.record)}")
        return None
    return t


def _temps(record: Provider) -> str:
    return " or ".join(f"{t:g}" for t in record.reasoning_temperatures)


def _check_summary(m: _Model, d: Decoding, label: str) -> None:
    """A reasoning summary exists only for an OpenAI reasoning model (the Responses API)."""
    if d.reasoning_summary is None:
        return
    if d.reasoning_summary not in SUMMARIES:
        raise RequestError(f"{label}: reasoning summary must be one of {', '.join(SUMMARIES)}, "
                           f"got {d.reasoning_summary!r}")
    if not m.record.summaries:
        raise RequestError(f"{label}: reasoning summaries exist only for OpenAI reasoning models (through the "
                           f"Responses API); {m.provider}/{m.name} is {m.record.family}: drop "
                           "--drift-reasoning-summary / reasoning_summary for it")
    if m.known and not m.reasons:
        raise RequestError(f"{label}: litellm knows {m.provider}/{m.name} as a model without reasoning, so it has no "
                           "reasoning summary; drop --drift-reasoning-summary / reasoning_summary for it")
    if d.thinking_tokens is not None:
        raise RequestError(f"{label}: a reasoning summary goes with a reasoning effort, not a thinking budget")


def _cap(m: _Model, d: Decoding, default: int, label: str, changes: list[str]) -> tuple[int | None, int]:
    """(max_tokens to send, the part of it set aside for reasoning)."""
    base = d.max_tokens if d.max_tokens is not None else default
    room, why = 0, ""
    if d.thinking_tokens is not None:
        room, why = d.thinking_tokens, f"the thinking budget {d.thinking_tokens}"
    elif d.reasoning_effort is not None:
        budget = _effort_budget(m, d.reasoning_effort)
        room, why = (budget, f"litellm's thinking budget {budget} for effort {d.reasoning_effort}") if budget else \
            (REASONING_ROOM[d.reasoning_effort], f"{REASONING_ROOM[d.reasoning_effort]} tokens of reasoning room "
                                                 f"for effort {d.reasoning_effort}")
    elif _always_reasons(m):  # it reasons at the provider's default effort, inside the same cap
        room, why = REASONING_ROOM["medium"], f"{REASONING_ROOM['medium']} tokens of reasoning room (the provider's default effort)"
    if not base:
        if room and m.record.cap_above_budget:  # e.g. the Messages API needs a cap above the budget
            base = HOSTED_MAX_TOKENS
        else:
            return None, room
    cap = base + room
    if room:
        changes.append(f"max_tokens {base} raised to {cap}: {why} on top of the answer's own room")
    if m.max_output is not None and cap > m.max_output:
        if room and room >= m.max_output:
            raise RequestError(f"{label}: a reasoning allowance of {room} leaves no room under "
                               f"{m.provider}/{m.name}'s output limit of {m.max_output} tokens")
        changes.append(f"max_tokens {cap} lowered to {m.max_output}: {m.provider}/{m.name}'s output limit")
        cap = m.max_output
    if m.supported is not None and "max_tokens" not in m.supported and "max_completion_tokens" not in m.supported:
        changes.append(f"max_tokens {cap} not sent: {m.provider}/{m.name} takes no output cap")
        return None, room
    return cap, room


def plan_request(model: str, decoding: Decoding, *, local: bool = False,
                 defaults: tuple[float | None, int] | None = None) -> RequestPlan:
    """The request parameters of `model` (a litellm provider/model id). `defaults` are the
    (temperature, max_tokens) used where `decoding` gives none: the model kind's unless a
    caller such as the judge brings its own. Raises RequestError for settings that cannot work."""
    return _plan(model, decoding, local, defaults)


@lru_cache(maxsize=256)
def _plan(model: str, d: Decoding, local: bool, defaults: tuple[float | None, int] | None) -> RequestPlan:
    default_t, default_cap = defaults or ((LOCAL_TEMPERATURE, LOCAL_MAX_TOKENS) if local else (None, HOSTED_MAX_TOKENS))
    label = f"--model {model}"
    if local:  # the embedded server: exactly the shipped cassettes' request shape, no reasoning
        if d.reasoning:
            raise RequestError(f"{label}: the embedded model has no reasoning settings")
        t = d.temperature if d.temperature is not None else default_t
        own_cap = d.max_tokens if d.max_tokens is not None else default_cap
        return RequestPlan(model, {k: v for k, v in (("temperature", t), ("max_tokens", own_cap or None))
                                   if v is not None})
    m = _model(model)
    _check_reasoning(m, d, label)
    _check_summary(m, d, label)
    changes: list[str] = []
    if not m.known:
        changes.append(f"litellm does not know {model}: its parameters and limits are unchecked")
    route = responses_route(model) if d.reasoning_summary is not None else ""
    record = provider_of(route) if route else m.record
    if route:
        changes.append(f"sent through the Responses API as {route}: reasoning summaries exist only there")
    reasoning = d.reasoning or d.reasoning_summary is not None or _always_reasons(m)
    params: dict[str, Any] = {}
    t = _temperature(m, d, default_t, reasoning, label, changes)
    if t is not None:
        params["temperature"] = t
    cap, room = _cap(m, d, default_cap, label, changes)
    if cap is not None:
        params["max_tokens"] = cap
    if route:  # litellm's Responses bridge takes the effort and the summary as one mapping
        params["reasoning_effort"] = {k: v for k, v in (("effort", d.reasoning_effort),
                                                        ("summary", d.reasoning_summary)) if v is not None}
    elif d.reasoning_effort is not None:
        params["reasoning_effort"] = d.reasoning_effort
    if d.thinking_tokens is not None:
        params.update(_thinking(record, d.thinking_tokens))
    send_seed = record.seed is not False and (m.supported is None or "seed" in m.supported)
    if not send_seed:
        changes.append(f"seed not sent: the {record.family} API takes none (episodes stay seeded in the world)")
    return RequestPlan(model, params, send_seed, tuple(changes), room, route, d.reasoning_summary)


def _thinking(record: Provider, budget: int) -> dict[str, Any]:
    """A thinking budget in the provider's own parameter."""
    if record.thinking_param == "reasoning.max_tokens":  # OpenRouter's unified reasoning parameter
        return {"reasoning": {"max_tokens": budget}}
    return {"thinking": {"type": "enabled", "budget_tokens": budget}}

