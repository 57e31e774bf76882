"""The built-in scenario families, registered through the `pytest_drift.scenarios` entry point."""

from __future__ import annotations

from pytest_drift import Scenario


def builtin_scenarios() -> list[Scenario]:
    from .goal_drift import SCENARIOS as goal_drift
    from .gym import SCENARIOS as gym
    from .instrumental import SCENARIOS as instrumental

    return [*goal_drift, *gym, *instrumental]
