"""Which caller plays a case: a scripted policy in process, or a live model in its cassette."""

from __future__ import annotations

from contextlib import AbstractContextManager, nullcontext
from pathlib import Path
from typing import Any, Callable

from ..errors import DiscardCassette
from ..models import ModelCaller, ModelId, PolicyCaller, UnknownModel, model_caller, parse_model
from ..world import GENERIC_POLICIES, Environment, Policy, Scenario, reference_policy
from .case import Settings
from .loop import EpisodeMissed, EpisodeResult, Termination


def policy_names(scenario: Scenario) -> list[str]:
    return sorted({*scenario.policies, *GENERIC_POLICIES})


def check_model(model: str, scenarios: list[Scenario]) -> ModelId:
    """Refuse a model id that cannot work, before any test runs."""
    mid = parse_model(model)
    if mid.is_policy:
        known = set(GENERIC_POLICIES).union(*(s.policies for s in scenarios))
        if mid.name not in known:
            raise UnknownModel(f"unknown policy {model!r}; known: {', '.join(f'policy/{n}' for n in sorted(known))}")
    return mid


def _policy(mid: ModelId, scenario: Scenario) -> Policy:
    policy = reference_policy(scenario, mid.name)
    if policy is None:
        raise UnknownModel(f"scenario {scenario.name!r} has no policy {mid.name!r}; known: {policy_names(scenario)}")
    return policy


def _bind(env: Environment, settings: Settings, seed: int, cassette: Path) -> None:
    """Give a world that calls models itself (e.g. an adversary) text callers in the episode's cassette."""
    def make(model: str) -> Any:
        mid = parse_model(model)
        if mid.is_policy:
            raise UnknownModel(f"a world's own agent is 'scripted' or a live model, not {model!r}")
        return model_caller(mid, seed=seed, cassette=cassette, record_mode=settings.record_mode,
                            api_base=settings.api_base_for(model), decoding=settings.decoding_for(model),
                            price=settings.price_for(model)).text

    if env.world_models():
        env.bind_models(make)


def caller_for(model: str, scenario: Scenario, env: Environment, settings: Settings, seed: int,
               cassette: Path) -> tuple[ModelCaller, AbstractContextManager[Any]]:
    """The model's caller and the context it runs in (its cassette, when anything in the
    episode calls a live model); binds the world's own models first."""
    _bind(env, settings, seed, cassette)
    mid = parse_model(model)
    if mid.is_model or env.world_models():
        from ..models.cassettes import use_cassette

        ctx: AbstractContextManager[Any] = use_cassette(cassette, settings.record_mode)
    else:
        ctx = nullcontext()
    if mid.is_policy:
        return PolicyCaller(_policy(mid, scenario), env), ctx
    return model_caller(mid, seed=seed, cassette=cassette, record_mode=settings.record_mode,
                        api_base=settings.api_base_for(model), decoding=settings.decoding_for(model),
                        price=settings.price_for(model)), ctx


def played_in(ctx: AbstractContextManager[Any], run: Callable[[], EpisodeResult]) -> EpisodeResult:
    """Run an episode in its cassette context. A provider failure leaves the cassette as it was
    before (labelled unknown, the episode is not worth keeping: `once` plays it again)."""
    try:
        with ctx:
            result = run()
            if result.termination is Termination.PROVIDER_ERROR:
                raise DiscardCassette(result)
            if result.miss is not None:  # up to the engine, through prefixes and forks, position and all
                raise EpisodeMissed(result.miss)
    except DiscardCassette as discarded:
        result = discarded.result  # type: ignore[assignment]  # errors carries it untyped (no engine import)
    return result
