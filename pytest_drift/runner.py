"""Run one case (model x scenario x variant x repeat) into an Outcome."""

from __future__ import annotations

import os
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .cassettes import cassette_path, use_cassette
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
        return episode_seed(self.scenario.name, self.variant.name, self.repeat, drift_seed)

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


def _policy(case: Case) -> Any:
    name = case.model[len(POLICY_PREFIX):]
    factory = case.scenario.policies.get(name) or GENERIC_POLICIES.get(name)
    if factory is None:
        raise UnknownModel(f"scenario {case.scenario.name!r} has no policy {name!r}; known: {policy_names(case.scenario)}")
    return factory()


def _live_caller(case: Case, settings: Settings, seed: int, cassette: Path) -> LiteLLMCaller:
    model, api_base = case.model, settings.api_base
    if model.startswith(LOCAL_PREFIX):
        from .local_model import local_endpoint

        model, api_base = local_endpoint(model, settings.record_mode)
    api_key = None
    if settings.record_mode == "none" or (api_base and not os.environ.get("OPENAI_API_KEY")):
        api_key = REPLAY_KEY
    return LiteLLMCaller(model=model, seed=seed, api_base=api_base, api_key=api_key, cassette=str(cassette))


def play(case: Case, settings: Settings) -> tuple[Outcome, EpisodeResult | None]:
    """Play the case; a cassette miss becomes an `unknown` outcome and is re-raised."""
    seed, cassette = case.seed(settings.drift_seed), case.cassette(settings.cassette_dir)
    env = case.scenario.build(case.variant, seed)
    caller: ModelCaller
    if is_policy(case.model):
        caller, ctx = PolicyCaller(case.model, _policy(case), env), nullcontext()
    else:
        caller, ctx = _live_caller(case, settings, seed, cassette), use_cassette(cassette, settings.record_mode)
    limits = settings.limits
    if settings.record_mode == "none":
        limits = Limits(limits.max_calls_per_step, limits.loop_guard, limits.max_retries, retry_delays=())
    with ctx:
        result = run_episode(env, caller, limits)
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
