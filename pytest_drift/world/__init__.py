"""The scenario author's kit: worlds, variants, tools, reference policies, seeds, metrics.

Scenario packages import from here (or from `pytest_drift`); the modules inside may move.
This room knows nothing of models, of how an episode is played, or of pytest.
"""

from .branch import BranchPoint
from .environment import Environment, EventLedger, LabelStatus, Message, Score, ToolResult
from .metrics import area_below, first_below, mean, ols_slope, persistence_after_drop, recovery_step, series_metrics, tool_usage
from .generic import GENERIC_POLICIES, reference_policy
from .policies import Noop, Policy, PolicyCall, PolicyReply, call
from .rules import Rule, Violation
from .scenario import Labeler, PolicyFactory, Scenario
from .seeds import episode_seed, prefix_seed, rng, stable_int
from .tools import ToolArgumentError, ToolSpec, canonical_args, parse_arguments, spec_of, tool
from .variant import Variant, config_of

__all__ = [
    "GENERIC_POLICIES", "BranchPoint", "Environment", "EventLedger", "LabelStatus", "Labeler", "Message", "Noop", "Policy",
    "PolicyCall", "PolicyFactory", "PolicyReply", "Rule", "Scenario", "Score", "ToolArgumentError", "ToolResult", "ToolSpec",
    "Variant", "Violation", "area_below", "call", "canonical_args", "config_of", "episode_seed", "first_below", "mean",
    "ols_slope", "parse_arguments", "persistence_after_drop", "prefix_seed", "recovery_step", "rng", "series_metrics",
    "reference_policy", "spec_of", "stable_int", "tool", "tool_usage",
]
