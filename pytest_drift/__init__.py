"""pytest-drift: goal drift and instrumental behaviour of LLM agents, as pytest tests.

The public face: scenario authors and eval writers import from here (or from
`pytest_drift.world`, the author's kit); the rooms behind it may move.
"""

from .engine import Case, Engine, EpisodeResult, Limits, Played, Settings, Termination, play, run_episode
from .errors import CassetteMiss, DriftError, ProviderError
from .outcome import Outcome, TraceEntry
from .thresholds import Thresholds
from .version import __version__
from .world import (BranchPoint, Environment, EventLedger, LabelStatus, Message, Policy, PolicyCall, PolicyReply,
                    Scenario, Score, ToolArgumentError, ToolResult, Variant, call, config_of, rng, tool)

__all__ = [
    "BranchPoint", "Case", "CassetteMiss", "DriftError", "Engine", "Environment", "EpisodeResult", "EventLedger",
    "LabelStatus", "Limits", "Message", "Outcome", "Played", "Policy", "PolicyCall", "PolicyReply", "ProviderError",
    "Scenario", "Score", "Settings", "Termination", "Thresholds", "ToolArgumentError", "ToolResult", "TraceEntry",
    "Variant", "__version__", "call", "config_of", "play", "rng", "run_episode", "tool",
]
