"""The preflight of a live run: episodes, model calls at most, tokens and money expected, per
model, before the first paid call (`--drift-plan`, `--drift-max-cost`).

An estimate, stated with its assumptions (docs/architecture.md, "Preflight"):
- calls at most: the world's message limit (lowered by the run's and the model's), else its
  steps x the per-step cap; calls expected: the message limit, else one call a step;
- prompt tokens: the opening prompt (messages and tool schemas, 4 characters a token) sent
  with every expected call, growing by GROWTH_PER_CALL tokens a call (reply and tool result);
- completion tokens: VISIBLE_PER_CALL a call plus REASONING_SHARE of the reasoning allowance
  (thinking budget, or the effort's room); the cap of every call is the upper bound;
- money: the --drift-config price (`input_per_mtok`, `output_per_mtok`), else litellm's price
  table on those tokens (reasoning is priced as output; a `:variant` suffix stripped); a model
  neither prices is named unpriced instead of counting as free (`models.prices`);
- only what this run pays: a fork at K prices steps K.. (its prefix replays from the source's
  cassette; taken as one call a step, whose history each later call carries), and a resumed
  episode leaves out the calls its journal answers (`once` with no cassette, `new_episodes`).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Iterable

from ..models.endpoint import request_plan
from ..models.prices import Price
from ..models.prices import expected_cost as expected_price
from .case import Case, Settings
from .fork import ForkCase
from .loop import message_limit
from .prefixes import limits_for

CHARS_PER_TOKEN = 4
GROWTH_PER_CALL = 200
VISIBLE_PER_CALL = 200
REASONING_SHARE = 0.25


@dataclass(frozen=True)
class EpisodeEstimate:
    calls: int  # expected
    calls_max: int
    prompt_tokens: int
    completion_tokens: int  # reasoning included
    reasoning_tokens: int
    completion_max: int  # every call at its cap


@dataclass
class ModelEstimate:
    model: str
    episodes: int = 0
    calls: int = 0
    calls_max: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    reasoning_tokens: int = 0
    completion_max: int = 0
    cost_usd: float | None = 0.0  # None: litellm has no price for the model
    cost_max_usd: float | None = 0.0
    request: dict[str, Any] = field(default_factory=dict)
    priced_by_config: bool = False  # the price came from --drift-config, not litellm's table

    def add(self, e: EpisodeEstimate) -> None:
        self.episodes += 1
        self.calls += e.calls
        self.calls_max += e.calls_max
        self.prompt_tokens += e.prompt_tokens
        self.completion_tokens += e.completion_tokens
        self.reasoning_tokens += e.reasoning_tokens
        self.completion_max += e.completion_max


def _already_played(case: Case, settings: Settings) -> tuple[int, int]:
    """(steps, calls) of the episode that this run will not pay for: a fork's replayed prefix
    (its K steps, taken as one call a step, from the source's cassette) and a resumed episode's
    calls answered from its journal."""
    from ..models.cassettes import journaled_calls

    steps = case.at_step if isinstance(case, ForkCase) else 0
    return steps, journaled_calls(case.cassette(settings.cassette_dir), settings.record_mode)


def _prompt_tokens(opening: int, first: int, calls: int) -> int:
    """Prompt tokens of calls number first..first+calls-1 (0-based): each sends the opening
    prompt plus GROWTH_PER_CALL for every call before it."""
    return calls * opening + GROWTH_PER_CALL * (calls * first + calls * (calls - 1) // 2)


def estimate_episode(case: Case, settings: Settings) -> EpisodeEstimate:
    """The calls this run will pay for: a fork's from its step K on (the steps before it replay
    from the source's cassette), a resumed episode's from the first call its journal lacks."""
    env, _ = case.world(settings.drift_seed)
    limits = limits_for(settings, case.model)
    cap = message_limit(env, limits)  # counts the calls of one run of the loop (a fork's own, from K)
    skipped_steps, journaled = _already_played(case, settings)
    steps = max(env.max_steps - skipped_steps, 0)
    per_step = env.max_calls_per_step or limits.max_calls_per_step
    bound = steps * per_step  # the loop ends a step that uses up its calls
    most = bound if cap is None else min(cap, bound)
    calls = min(cap if cap is not None else steps, most)
    calls, most = max(calls - journaled, 0), max(most - journaled, 0)
    opening = json.dumps(env.initial_messages()) + json.dumps(env.tool_schemas())
    prompt = _prompt_tokens(len(opening) // CHARS_PER_TOKEN, skipped_steps + journaled, calls)
    plan = request_plan(case.model_id, settings.decoding_for(case.model))
    params = plan.params
    reasoning = int(REASONING_SHARE * plan.reasoning_room)
    per_call_max = int(params.get("max_tokens") or VISIBLE_PER_CALL + reasoning)
    return EpisodeEstimate(calls, most, prompt, calls * (VISIBLE_PER_CALL + reasoning), calls * reasoning,
                           calls * per_call_max)


def _price(model: str, price: Price | None, prompt: int, completion: int) -> float | None:
    """The configured price, else litellm's table (suffix stripped); None: unpriced, never $0."""
    return expected_price(model, price, prompt, completion)


def estimate(cases: Iterable[Case], settings: Settings) -> list[ModelEstimate]:
    """Per live model (the embedded one included: its price is unknown, its tokens are not)."""
    out: dict[str, ModelEstimate] = {}
    for case in cases:
        if not case.model_id.is_model:
            continue
        m = out.get(case.model)
        if m is None:
            plan = request_plan(case.model_id, settings.decoding_for(case.model))
            m = out[case.model] = ModelEstimate(case.model, request=plan.provenance())
        m.add(estimate_episode(case, settings))
    for m in out.values():
        local = m.model.startswith("local/")
        price = settings.price_for(m.model)
        m.priced_by_config = price is not None
        m.cost_usd = None if local else _price(m.model, price, m.prompt_tokens, m.completion_tokens)
        m.cost_max_usd = None if local else _price(m.model, price, m.prompt_tokens, m.completion_max)
    return sorted(out.values(), key=lambda m: m.model)


def _usd(value: float | None) -> str:
    return "unpriced" if value is None else f"${value:,.2f}"


def plan_lines(estimates: list[ModelEstimate]) -> list[str]:
    """The preflight as terminal lines, one per model and one total."""
    lines = []
    for m in estimates:
        req = m.request.get("params", {})
        asked = ", ".join(f"{k}={v}" for k, v in req.items() if k in ("reasoning_effort", "thinking", "reasoning",
                                                                       "temperature", "max_tokens"))
        lines.append(f"  {m.model}: {m.episodes} episodes, {m.calls:,} calls expected (at most {m.calls_max:,}); tokens "
                     f"{m.prompt_tokens:,} in + {m.completion_tokens:,} out ({m.reasoning_tokens:,} reasoning); "
                     + (f"expected cost {_usd(m.cost_usd)} (every reply at its cap: {_usd(m.cost_max_usd)})"
                        + (" at the --drift-config price" if m.priced_by_config else "")
                        if m.cost_usd is not None else "unpriced: litellm has no price for it (give input_per_mtok / "
                        "output_per_mtok in --drift-config models:)")
                     + (f"; sends {asked}" if asked else ""))
        lines += [f"    changed: {c}" for c in m.request.get("changes", [])]
    known = [m.cost_usd for m in estimates if m.cost_usd is not None]
    unknown = [m.model for m in estimates if m.cost_usd is None]
    total = f"expected cost ${sum(known):,.2f}" + (f" (+ unpriced: {', '.join(unknown)})" if unknown else "")
    lines.append(f"  total: {sum(m.episodes for m in estimates)} episodes, at most "
                 f"{sum(m.calls_max for m in estimates):,} calls, {total}")
    return lines


def unpriced(estimates: list[ModelEstimate]) -> list[str]:
    """The models whose cost neither the config nor litellm's table gives."""
    return [m.model for m in estimates if m.cost_usd is None]


def expected_cost(estimates: list[ModelEstimate]) -> float:
    return sum(m.cost_usd for m in estimates if m.cost_usd is not None)
