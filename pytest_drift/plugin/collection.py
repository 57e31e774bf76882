"""Collection: the drift_case parametrisation (models x scenarios x variants x repeats),
its ids and marks."""

from __future__ import annotations

from typing import Any

import pytest

from ..engine import Case
from ..world import Scenario, Variant
from .catalogue import MODELS, REGISTRY
from .options import OPTIONS, DriftOptions


def _variants(scenario: Scenario, profile: str, where: Any = None) -> list[Variant]:
    chosen = [v for v in scenario.variants if profile == "all" or v.in_default_run == (profile == "default")]
    return [v for v in chosen if where is None or where(v)]


def _marks(case: Case, options: DriftOptions) -> list[pytest.MarkDecorator]:
    """Family and scenario marks, and the xdist group that keeps together what one process must
    play: the tests of one episode (else two workers would each play, and pay for, the same
    episode) and, for branching scenarios, every branch of one prefix."""
    marks = [getattr(pytest.mark, case.scenario.family), getattr(pytest.mark, case.scenario.name)]
    group = case.id
    if case.scenario.shared_seed:
        point = case.world(options.seed)[1]
        if point is not None:
            group = f"{case.scenario.name}-{point.key(options.prefix_model or case.model)}"
    marks.append(pytest.mark.xdist_group(group))
    return marks


def _select(registry: dict[str, Scenario], marker: pytest.Mark | None) -> list[Scenario]:
    if marker is None:
        return list(registry.values())
    names, family = marker.kwargs.get("scenarios"), marker.kwargs.get("family")
    if isinstance(names, str):
        names = [names]
    missing = sorted(set(names or []) - set(registry))
    if missing:
        raise pytest.UsageError(f"@pytest.mark.drift names unknown scenario(s) {missing}; known: {sorted(registry)}")
    chosen = [s for s in registry.values() if (names is None or s.name in names) and (family is None or s.family == family)]
    if not chosen:  # else pytest would skip the test as an empty parameter set, silently
        families = sorted({s.family for s in registry.values()})
        raise pytest.UsageError(f"@pytest.mark.drift({marker.kwargs}) selects no scenario; families: {families}")
    return chosen


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "drift_case" not in metafunc.fixturenames:
        return
    config = metafunc.config
    options = config.stash[OPTIONS]
    models = config.stash[MODELS]
    if not models:
        raise pytest.UsageError(
            f"no --model given and no cassettes under {options.cassette_dir}; "
            "try --model policy/oracle (scripted, offline) or a live provider/model with --record-mode=once")
    if not config.stash[REGISTRY]:
        raise pytest.UsageError(
            "no scenarios registered: no `pytest_drift.scenarios` entry point and no pytest_drift_scenarios hook "
            "gave one. Is the project installed (pip install -e .)? An install made before its entry points "
            "were added needs redoing.")
    marker = metafunc.definition.get_closest_marker("drift")
    where = marker.kwargs.get("where") if marker else None
    params = [
        pytest.param(case, id=case.id, marks=_marks(case, options))
        for model in models for sc in _select(config.stash[REGISTRY], marker)
        for v in _variants(sc, options.profile, where) for r in range(options.repeats)
        for case in [Case(model, sc, v, r)]
    ]
    metafunc.parametrize("drift_case", params)
