"""Hooks other plugins and conftest files implement to extend pytest-drift."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from ..engine import Case, Played
    from ..outcome import Outcome
    from ..world import Scenario

hookspec = pytest.hookspec


@hookspec
def pytest_drift_scenarios(config: pytest.Config) -> list[Scenario]:
    """Return scenarios to add to the registry (results of all implementations are merged)."""
    raise NotImplementedError


@hookspec
def pytest_drift_outcome(config: pytest.Config, outcome: Outcome) -> None:
    """Called once per finished episode, in the process that played it (a worker under xdist)."""


@hookspec(firstresult=True)
def pytest_drift_played_elsewhere(config: pytest.Config, case: Case) -> Played | None:
    """The case's episode if another plugin plays it (plugin.live's pool: waited for here), else None:
    the test's own process plays it."""
    raise NotImplementedError
