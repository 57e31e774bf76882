"""pytest-drift: goal drift and instrumental behaviour of LLM agents, as pytest tests."""

from .episode import EpisodeResult, Limits, Termination, run_episode
from .errors import CassetteMiss, DriftError, ProviderError
from .outcome import Outcome, TraceEntry
from .thresholds import Thresholds
from .policies import Policy, PolicyCall, PolicyReply, call
from .scenario import Environment, EventLedger, LabelStatus, Message, Scenario, Score, ToolResult, Variant
from .tools import tool

__version__ = "0.1.0"

__all__ = [
    "CassetteMiss", "DriftError", "Environment", "EpisodeResult", "EventLedger", "LabelStatus", "Limits",
    "Message", "Outcome", "Policy", "PolicyCall", "PolicyReply", "ProviderError", "Scenario", "Score",
    "Termination", "ToolResult", "Thresholds", "TraceEntry", "Variant", "__version__", "call", "run_episode", "tool",
]
