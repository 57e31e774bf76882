"""The scenario registry: entry-point group `pytest_drift.scenarios` plus the
`pytest_drift_scenarios` hook. An entry point names a callable returning scenarios (or a
Scenario, or a list)."""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any, Iterable

from .errors import DriftError
from .scenario import Scenario

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


def from_entry_points() -> list[Scenario]:
    found: list[Scenario] = []
    for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
        found.extend(_as_scenarios(ep.load(), f"entry point {ep.name!r} ({ep.value})"))
    return found


def build_registry(groups: Iterable[Iterable[Scenario]]) -> dict[str, Scenario]:
    """Merge scenario lists; the same object twice is fine, two scenarios with one name are not."""
    registry: dict[str, Scenario] = {}
    for group in groups:
        for sc in _as_scenarios(list(group), "a scenario provider"):
            other = registry.get(sc.name)
            if other is not None and other is not sc:
                raise RegistryError(f"two scenarios are named {sc.name!r}")
            registry[sc.name] = sc
    return dict(sorted(registry.items()))
