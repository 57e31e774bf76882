"""The engine: the episode loop, branching from shared prefixes, playing a case into an
Outcome, and the optional judge. No pytest here: anything can drive it."""

from .branching import BranchMismatch, Prefix, canonical_messages, rebuild, transform_history
from .callers import caller_for, check_model, policy_names
from .case import Case, Settings
from .loop import EpisodeMissed, EpisodeResult, ExecutedCall, Limits, MissAt, Termination, run_episode
from .play import Engine, Played, build_outcome, play

__all__ = [
    "BranchMismatch", "Case", "Engine", "EpisodeMissed", "EpisodeResult", "ExecutedCall", "Limits", "MissAt", "Played", "Prefix", "Settings",
    "Termination", "build_outcome", "caller_for", "canonical_messages", "check_model", "play", "policy_names",
    "rebuild", "run_episode", "transform_history",
]
