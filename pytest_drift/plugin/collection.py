"""Collection: the drift_case parametrisation (models x scenarios x variants x repeats),
its ids and marks."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pytest

from .catalogue import MODELS, REGISTRY
from .forks import fork_cases
from .network import LOOPBACK_PATTERNS
from .options import OPTIONS, RECORDING

if TYPE_CHECKING:
    from ..engine import Case
    from ..world import Scenario, Variant

GROUPS = pytest.StashKey[dict[tuple[str, ...], str]]()  # branch groups named so far, by what decides them


def _variants(scenario: Scenario, profile: str, where: Any = None) -> list[Variant]:
    chosen = [v for v in scenario.variants if profile == "all" or v.in_default_run == (profile == "default")]
    return [v for v in chosen if where is None or where(v)]


def _marks(case: Case, config: pytest.Config) -> list[pytest.MarkDecorator]:
    """Family and scenario marks, and the xdist group that keeps together what one process must
    play: the tests of one episode (else two workers would each play, and pay for, the same
    episode) and, for branching scenarios, every branch of one prefix."""
    marks = [getattr(pytest.mark, case.scenario.family), getattr(pytest.mark, case.scenario.name)]
    marks.append(pytest.mark.xdist_group(_group(case, config) if _groups_matter(config) else case.id))
    if config.stash[OPTIONS].block_network and config.pluginmanager.has_plugin(RECORDING):
        # pytest-recording's --block-network blocks loopback too within a test: the embedded model's
        # server stays reachable, as under our own guard (non-loopback stays refused)
        marks.append(pytest.mark.block_network(allowed_hosts=list(LOOPBACK_PATTERNS)))
    return marks


def _groups_matter(config: pytest.Config) -> bool:
    """Whether anything reads the branch groups: xdist's loadgroup (a run that records, or asked
    for by name) or --drift-shard. A replay does not, so it builds no world to name a test."""
    options = config.stash[OPTIONS]
    return (options.record_mode != "none" or getattr(config.option, "dist", None) == "loadgroup"
            or options.shard is not None)


def _group(case: Case, config: pytest.Config) -> str:
    """The case's xdist group: its own id, or for a branch its prefix's key. The key needs the
    built world's branch point; it is the same for every case of one (scenario, variant, prefix
    model) when the prefix is shared by every repeat, so such a world is built once."""
    if not case.scenario.shared_seed:
        return case.id
    options = config.stash[OPTIONS]
    model = options.prefix_model or case.model
    groups = config.stash.setdefault(GROUPS, {})
    shared = (case.scenario.name, case.variant.name, model)
    own = (case.id,)
    if shared in groups or own in groups:
        return groups.get(shared) or groups[own]
    point = case.world(options.seed)[1]
    if point is None:
        groups[own] = case.id
    else:
        groups[shared if point.shared else own] = f"{case.scenario.name}-{point.key(model)}"
    return groups.get(shared) or groups[own]


def _select(registry: Mapping[str, Scenario], marker: pytest.Mark | None) -> list[Scenario]:
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
    cases = run_cases(config, _select(config.stash[REGISTRY], marker), where)
    metafunc.parametrize("drift_case", [pytest.param(case, id=case.id, marks=_marks(case, config)) for case in cases])


def run_cases(config: pytest.Config, scenarios: Sequence[Scenario] | None = None,
              where: Callable[[Variant], bool] | None = None) -> list[Case]:
    """The cases this run plays, of `scenarios` (default: all) and the variants `where` keeps: its
    forks if it has any (only forks run), else models x scenarios x variants x repeats. Collection
    parametrises with them; the xdist controller, which collects nothing, finds its cases among them."""
    from ..engine import Case

    options = config.stash[OPTIONS]
    chosen = list(config.stash[REGISTRY].values()) if scenarios is None else list(scenarios)
    forks = fork_cases(config)
    if forks:
        names = {sc.name for sc in chosen}
        return [case for case in forks if case.scenario.name in names and (where is None or where(case.variant))]
    return [Case(model, sc, v, r) for model in config.stash[MODELS] for sc in chosen
            for v in _variants(sc, options.profile, where) for r in range(options.repeats)]
