"""The session's scenarios and models: the registry built once, models checked before any
test runs, a marker per scenario and family, and the network guard."""

from __future__ import annotations

from typing import Callable

import pytest

from ..engine import check_model
from ..errors import DriftError
from ..models.paths import shipped_models
from ..registry import load_scenarios
from ..world import Scenario
from .network import block_network
from ..models import parse_model
from ..models.live import request_plan
from ..models.request import Decoding
from .options import OPTIONS, DriftOptions

REGISTRY = pytest.StashKey[dict[str, Scenario]]()
MODELS = pytest.StashKey[list[str]]()
_UNBLOCK = pytest.StashKey[Callable[[], None]]()


def _registry(config: pytest.Config) -> dict[str, Scenario]:
    options = config.stash[OPTIONS]
    extra = [list(r) for r in config.hook.pytest_drift_scenarios(config=config) if r]
    registry = load_scenarios(extra, options.configs, options.params)
    for model in [*options.models, *filter(None, [options.prefix_model])]:
        check_model(model, list(registry.values()))
    if options.judge:
        if check_model(options.judge, []).is_policy:
            raise DriftError(f"--drift-judge {options.judge}: a judge is a live model (provider/model), not a policy")
    _check_requests(options)
    return registry


def _check_requests(options: DriftOptions) -> None:
    """Request settings that cannot work are usage errors before any call. Checked only when
    some were given (the check reads litellm's tables: a plain run does not pay its import)."""
    if options.decoding == Decoding() and not options.model_decodings:
        return
    settings = options.settings()
    for model in dict.fromkeys([*options.models, *filter(None, [options.prefix_model])]):
        mid = parse_model(model)
        if mid.is_live:
            request_plan(mid, settings.decoding_for(model))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drift(scenarios=None, family=None, where=None): parametrise this test over "
                                       "models x scenarios x variants x repeats (fixture drift_case); where: a "
                                       "predicate on Variant keeping only the variants it applies to")
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist --dist loadgroup runs a group in one worker")
    try:
        registry = config.stash[REGISTRY] = _registry(config)
    except DriftError as exc:
        raise pytest.UsageError(str(exc)) from None
    for name in sorted({*registry, *(s.family for s in registry.values())}):
        config.addinivalue_line("markers", f"{name}: pytest-drift scenario or family {name}")
    options = config.stash[OPTIONS]
    config.stash[MODELS] = list(options.models) or shipped_models(options.cassette_dir)
    if options.block_network:
        config.stash[_UNBLOCK] = block_network()


def pytest_unconfigure(config: pytest.Config) -> None:
    undo = config.stash.get(_UNBLOCK, None)
    if undo is not None:
        undo()
        del config.stash[_UNBLOCK]
