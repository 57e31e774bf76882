"""The scenario registry, one recipe for every caller: the entry-point group
`pytest_drift.scenarios` (the built-ins register there like anyone's), scenarios a
caller adds (the `pytest_drift_scenarios` hook), then --drift-config variants and
--drift-param overrides. An entry point names a callable returning scenarios (or a
Scenario, or a list)."""

from __future__ import annotations

import hashlib
import inspect
import json
import warnings
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any, Iterable, Mapping, Sequence

from .errors import DriftError
from .params import Override, add_config_files, apply_overrides
from .world import Scenario
from .world.checks import describe_problems, scenario_problems

ENTRY_POINT_GROUP = "pytest_drift.scenarios"


class RegistryError(DriftError):
    pass


def _as_scenarios(obj: Any, source: str) -> list[Scenario]:
    if callable(obj) and not isinstance(obj, Scenario):
        obj = obj()
    items = [obj] if isinstance(obj, Scenario) else list(obj or [])
    bad = [i for i in items if not isinstance(i, Scenario)]
    if bad:
        raise RegistryError(f"{source} returned something that is not a Scenario: {bad[0]!r}")
    return items


class EntryPointFailed(UserWarning):
    """An installed package's scenarios could not be loaded (the others still are)."""


def from_entry_points() -> list[Scenario]:
    """Every installed package's scenarios. One that cannot be imported (or returns something
    else) is a warning naming its distribution and entry point, never a failure of pytest as a
    whole: a broken package must not break every other project's test run."""
    found: list[Scenario] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        dist = getattr(getattr(ep, "dist", None), "name", None) or "an unknown distribution"
        try:
            found.extend(_as_scenarios(ep.load(), f"entry point {ep.name!r} ({ep.value})"))
        except Exception as exc:
            warnings.warn(EntryPointFailed(f"pytest-drift: scenarios of {dist} not loaded: entry point "
                                           f"{ep.name!r} = {ep.value!r} failed: {type(exc).__name__}: {exc}"),
                          stacklevel=2)
    return found


class ScenarioRefused(UserWarning):
    """A scenario that cannot work was left out (the others still load)."""


def build_registry(groups: Iterable[Iterable[Scenario]]) -> dict[str, Scenario]:
    """Merge scenario lists; the same object twice is fine, two scenarios with one name are not.
    A scenario that fails its checks (world.checks) is left out with a warning naming it."""
    registry: dict[str, Scenario] = {}
    for group in groups:
        for sc in _as_scenarios(list(group), "a scenario provider"):
            problems = scenario_problems(sc)
            if problems:
                warnings.warn(ScenarioRefused(describe_problems(sc, problems)), stacklevel=2)
                continue
            other = registry.get(sc.name)
            if other is not None and other is not sc:
                raise RegistryError(f"two scenarios are named {sc.name!r}")
            registry[sc.name] = sc
    return dict(sorted(registry.items()))


def load_scenarios(extra: Iterable[Iterable[Scenario]] = (), configs: Sequence[str] = (),
                   params: Sequence[str] = ()) -> dict[str, Scenario]:
    """The registry as a run sees it: entry points, extra groups, YAML variants, overrides."""
    registry = add_config_files(build_registry([from_entry_points(), *extra]), list(configs))
    return apply_overrides(registry, [Override.parse(t) for t in params])


def scenario_hash(sc: Scenario) -> str:
    """sha256 over the scenario's environment source and its variants as run (overrides included)."""
    h = hashlib.sha256()
    try:
        h.update(Path(inspect.getsourcefile(sc.environment) or "").read_bytes())
    except (OSError, TypeError):
        pass
    h.update(json.dumps([[v.name, dict(v.params)] for v in sc.variants], sort_keys=True, default=str).encode())
    return h.hexdigest()


def scenario_hashes(registry: Mapping[str, Scenario], names: Iterable[str]) -> dict[str, str]:
    return {n: scenario_hash(registry[n]) for n in sorted(set(names)) if n in registry}
