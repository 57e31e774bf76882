"""pytest-drift: goal drift and instrumental behaviour of LLM agents, as pytest tests.

The public face: scenario authors and eval writers import from here (or from
`pytest_drift.world`, the author's kit); the rooms behind it may move.

Names are imported on first use (PEP 562): pytest imports this package for the plugin in
every project where it is installed, and a project without drift tests must not pay for
the engine, pydantic or the worlds.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from .version import __version__

_WHERE = {
    **dict.fromkeys(["Case", "Engine", "EpisodeResult", "Limits", "Played", "Settings", "Termination", "play",
                     "run_episode"], ".engine"),
    **dict.fromkeys(["CassetteMiss", "DriftError", "ProviderError"], ".errors"),
    **dict.fromkeys(["Outcome", "TraceEntry"], ".outcome"),
    "Thresholds": ".thresholds",
    **dict.fromkeys(["BranchPoint", "Environment", "EventLedger", "LabelStatus", "Message", "Policy", "PolicyCall",
                     "PolicyReply", "Scenario", "Score", "ToolArgumentError", "ToolResult", "Variant", "call",
                     "config_of", "rng", "tool"], ".world"),
}

if TYPE_CHECKING:
    from .engine import Case, Engine, EpisodeResult, Limits, Played, Settings, Termination, play, run_episode
    from .errors import CassetteMiss, DriftError, ProviderError
    from .outcome import Outcome, TraceEntry
    from .thresholds import Thresholds
    from .world import (BranchPoint, Environment, EventLedger, LabelStatus, Message, Policy, PolicyCall,
                        PolicyReply, Scenario, Score, ToolArgumentError, ToolResult, Variant, call, config_of, rng,
                        tool)


def __getattr__(name: str) -> Any:
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(module, __name__), name)
    globals()[name] = value  # looked up once
    return value


__all__ = sorted([*_WHERE, "__version__"])
