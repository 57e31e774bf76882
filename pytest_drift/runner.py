"""Run one case (model x scenario x variant x repeat) into an Outcome."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .branching import BranchPoint, Prefix, canonical_messages, ended_early, merge, rebuild, transform_history
from .cassettes import cassette_path, model_slug, use_cassette
from .episode import EpisodeResult, Limits, ModelCaller, Termination, run_episode
from .errors import CassetteMiss, DriftError
from .models import POLICY_PREFIX, LiteLLMCaller, PolicyCaller, is_policy
from .outcome import Outcome
from .policies import GENERIC_POLICIES
from .scenario import Environment, Scenario, Variant
from .seeds import episode_seed

REPLAY_KEY = "drift-replay-key"  # providers insist on a key even when a cassette answers
LOCAL_PREFIX = "local/"


class UnknownModel(DriftError):
    pass


@dataclass(frozen=True)
class Settings:
    cassette_dir: Path
    record_mode: str = "none"
    api_base: str | None = None
    drift_seed: int = 0
    limits: Limits = field(default_factory=Limits)
    prefix_model: str | None = None  # cross-model conditioning: this model plays every prefix
    judge: str | None = None  # an LLM judge for stated-goal interrogations (recorded like an episode)


@dataclass(frozen=True)
class Case:
    model: str
    scenario: Scenario
    variant: Variant
    repeat: int

    @property
    def id(self) -> str:
        return f"{self.model}-{self.scenario.name}-{self.variant.name}-r{self.repeat}"

    def seed(self, drift_seed: int) -> int:
        variant = "*" if self.scenario.shared_seed else self.variant.name
        return episode_seed(self.scenario.name, variant, self.repeat, drift_seed)

    def cassette(self, root: Path) -> Path:
        return cassette_path(root, self.model, self.scenario.name, self.variant.name, self.repeat)


def policy_names(scenario: Scenario) -> list[str]:
    return sorted({*scenario.policies, *GENERIC_POLICIES})


def check_model(model: str, scenarios: list[Scenario]) -> None:
    """Refuse a model id that cannot work, before any test runs."""
    if is_policy(model):
        name = model[len(POLICY_PREFIX):]
        known = set(GENERIC_POLICIES).union(*(s.policies for s in scenarios)) if scenarios else set(GENERIC_POLICIES)
        if name not in known:
            raise UnknownModel(f"unknown policy {model!r}; known: {', '.join(f'policy/{n}' for n in sorted(known))}")
    elif model.startswith(LOCAL_PREFIX):
        from .local_model import LOCAL_MODELS

        if model[len(LOCAL_PREFIX):] not in LOCAL_MODELS:
            raise UnknownModel(f"unknown local model {model!r}; known: {', '.join(f'local/{n}' for n in LOCAL_MODELS)}")
    elif "/" not in model.strip("/"):
        raise UnknownModel(f"model {model!r} must read provider/model, e.g. openai/gpt-4o-mini, policy/oracle")


def _policy(model: str, scenario: Scenario) -> Any:
    name = model[len(POLICY_PREFIX):]
    factory = scenario.policies.get(name) or GENERIC_POLICIES.get(name)
    if factory is None:
        raise UnknownModel(f"scenario {scenario.name!r} has no policy {name!r}; known: {policy_names(scenario)}")
    return factory()


def _live_caller(model: str, settings: Settings, seed: int, cassette: Path) -> LiteLLMCaller:
    api_base = settings.api_base
    if model.startswith(LOCAL_PREFIX):
        from .local_model import local_endpoint

        model, api_base = local_endpoint(model, settings.record_mode)
    api_key = None
    if settings.record_mode == "none" or (api_base and not os.environ.get("OPENAI_API_KEY")):
        api_key = REPLAY_KEY
    return LiteLLMCaller(model=model, seed=seed, api_base=api_base, api_key=api_key, cassette=str(cassette))


def _caller(model: str, scenario: Scenario, env: Environment, settings: Settings, seed: int,
            cassette: Path) -> tuple[ModelCaller, Any]:
    """The model's caller and the context it runs in (its cassette, for a live model or a
    world that calls models itself); binds the world's own models first."""
    _bind(env, settings, seed, cassette)
    live = not is_policy(model) or bool(env.live_models())
    ctx = use_cassette(cassette, settings.record_mode) if live else nullcontext()
    if is_policy(model):
        return PolicyCaller(model, _policy(model, scenario), env), ctx
    return _live_caller(model, settings, seed, cassette), ctx


def _bind(env: Environment, settings: Settings, seed: int, cassette: Path) -> None:
    def make(model: str) -> Any:
        if is_policy(model):
            raise UnknownModel(f"a world's own agent is 'scripted' or a live model, not {model!r}")
        return _live_caller(model, settings, seed, cassette).text

    if env.live_models():
        env.bind_models(make)


def _limits(settings: Settings) -> Limits:
    limits = settings.limits
    if settings.record_mode == "none":  # replay: a retry cannot help, do not wait for one
        limits = Limits(limits.max_calls_per_step, limits.loop_guard, limits.max_retries, retry_delays=())
    return limits


_PREFIXES: dict[tuple[str, str, str], Prefix] = {}  # (cassette root, prefix model, key): played once per process


def prefix_cassette(root: Path, model: str, scenario: str, point: BranchPoint, repeat: int) -> Path:
    return root / model_slug(model) / scenario / "_prefix" / f"{point.label}-{point.key(model)}" / f"r{repeat}.yaml"


def _prefix(case: Case, settings: Settings, seed: int, point: BranchPoint) -> Prefix:
    model = settings.prefix_model or case.model
    key = point.key(model)
    cached = _PREFIXES.get((str(settings.cassette_dir), model, key))
    if cached is not None:
        return cached
    cassette = prefix_cassette(settings.cassette_dir, model, case.scenario.name, point, case.repeat)
    env = case.scenario.build(case.variant, seed)
    caller, ctx = _caller(model, case.scenario, env, settings, seed, cassette)
    with ctx:
        result = run_episode(env, caller, _limits(settings), stop_at_step=point.step)
    shown = "" if is_policy(model) else _relative(cassette, settings.cassette_dir.parent)
    prefix = _PREFIXES[(str(settings.cassette_dir), model, key)] = Prefix(model, key, result, shown)
    return prefix


def _branch(case: Case, settings: Settings, seed: int, env: Environment, point: BranchPoint,
            cassette: Path) -> tuple[EpisodeResult, Prefix]:
    """Continue the case from its prefix (played once per key) in a rebuilt world."""
    prefix = _prefix(case, settings, seed, point)
    if prefix.result.termination is Termination.PROVIDER_ERROR:
        return prefix.result, prefix
    rebuild(env, prefix.result.executed)
    if ended_early(prefix.result):
        env.finish()
        done = EpisodeResult(prefix.result.termination, prefix.result.messages, [], env.score(),
                             error=prefix.result.error, snapshots=env.snapshots)
        return merge(prefix.result, done), prefix
    messages = canonical_messages(transform_history(prefix.result.messages, point.transform, seed))
    caller, ctx = _caller(case.model, case.scenario, env, settings, seed, cassette)
    with ctx:
        rest = run_episode(env, caller, _limits(settings), messages=messages)
    return merge(prefix.result, rest), prefix


def judge_cassette(cassette: Path, judge: str) -> Path:
    return cassette.with_name(f"{cassette.stem}.judge-{model_slug(judge)}.yaml")


def _judge(outcome: Outcome, settings: Settings, seed: int, cassette: Path) -> None:
    """Add the LLM judge's stated-goal label (fields stated_goal_judge / _raw) to an interrogated outcome."""
    f = outcome.fields
    if settings.judge is None or "stated_goal" not in f or outcome.label_status != "ok":
        return
    from .judge import judge_messages, parse_label

    path = judge_cassette(cassette, settings.judge)
    caller = _live_caller(settings.judge, settings, seed, path)
    texts = f.get("goal_texts", {})
    with use_cassette(path, settings.record_mode):
        answer = caller.text(judge_messages(f["stated_goal"], texts.get("system", f.get("system_goal", "")),
                                            texts.get("competing", f.get("competing_goal", ""))))
    f.update({"stated_goal_judge": parse_label(answer), "stated_goal_judge_raw": answer[:500],
              "judge_model": settings.judge})


def play(case: Case, settings: Settings) -> tuple[Outcome, EpisodeResult | None]:
    """Play the case; a cassette miss becomes an `unknown` outcome and is re-raised."""
    outcome, result = _play(case, settings)
    _judge(outcome, settings, case.seed(settings.drift_seed), case.cassette(settings.cassette_dir))
    return outcome, result


def _play(case: Case, settings: Settings) -> tuple[Outcome, EpisodeResult | None]:
    seed, cassette = case.seed(settings.drift_seed), case.cassette(settings.cassette_dir)
    env = case.scenario.build(case.variant, seed)
    point = env.branch_point()
    if point is not None:
        result, prefix = _branch(case, settings, seed, env, point, cassette)
        outcome = build_outcome(case, seed, env, result, cassette, settings)
        outcome.provenance["prefix_model"] = prefix.model
        if prefix.cassette:
            outcome.provenance["prefix_cassette"] = prefix.cassette
        return outcome, result
    caller, ctx = _caller(case.model, case.scenario, env, settings, seed, cassette)
    with ctx:
        result = run_episode(env, caller, _limits(settings))
    return build_outcome(case, seed, env, result, cassette, settings), result


def build_outcome(case: Case, seed: int, env: Environment, result: EpisodeResult, cassette: Path,
                  settings: Settings) -> Outcome:
    base = _base_fields(case, seed, settings, cassette)
    if result.score is None or result.termination is Termination.PROVIDER_ERROR:
        return Outcome(**base, label_status="unknown", label_reason=result.error or "provider error",
                       termination=result.termination.value, model_calls=result.model_calls,
                       retries=result.retries)
    score = result.score
    return Outcome(
        **base, label_status=score.label_status, label_reason=score.label_reason,
        termination=result.termination.value, steps=env.step, model_calls=result.model_calls,
        tool_calls=result.tool_calls, retries=result.retries, malformed=result.malformed,
        metrics=score.metrics, series=score.series, fields=score.fields, trace=result.trace,
    )


def miss_outcome(case: Case, settings: Settings, miss: CassetteMiss) -> Outcome:
    base = _base_fields(case, case.seed(settings.drift_seed), settings, case.cassette(settings.cassette_dir))
    return Outcome(**base, label_status="unknown",
                   label_reason=f"cassette miss at step {miss.step}", termination=Termination.CASSETTE_MISS.value,
                   model_calls=miss.model_call or 0)


def _base_fields(case: Case, seed: int, settings: Settings, cassette: Path) -> dict[str, Any]:
    from . import __version__

    provenance = {"pytest_drift": __version__, "record_mode": settings.record_mode}
    if not is_policy(case.model):
        provenance["cassette"] = _relative(cassette, settings.cassette_dir.parent)
    return {
        "episode_id": case.id, "model": case.model, "scenario": case.scenario.name,
        "family": case.scenario.family, "variant": case.variant.name, "repeat": case.repeat, "seed": seed,
        "headline": case.scenario.headline, "threshold": case.scenario.threshold, "provenance": provenance,
    }


def _relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)
