"""The reference policies every scenario gets for free: noop, the null agents and the
break-once agent (which plays the scenario's own oracle after its one breach)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from .break_once import BreakOnce
from .null_policies import NULL_POLICIES, Repeat
from .policies import Noop

if TYPE_CHECKING:
    from .policies import Policy
    from .scenario import PolicyFactory, Scenario

GENERIC_POLICIES: dict[str, PolicyFactory] = {"noop": Noop, **NULL_POLICIES, "reckless": lambda: BreakOnce(Repeat())}


def reference_policy(scenario: Scenario, name: str) -> Policy | None:
    """A fresh instance of the scenario's policy `name`, or of a generic one; None if neither
    exists. `reckless` breaks the scenario's rule once, then plays its oracle."""
    if name == "reckless" and name not in scenario.policies:
        own = scenario.policies
        return BreakOnce(own["oracle"]() if "oracle" in own else Repeat(),
                         own["adversarial"]() if "adversarial" in own else None)
    factory = scenario.policies.get(name) or GENERIC_POLICIES.get(name)
    return factory() if factory is not None else None
