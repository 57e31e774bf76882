"""Branching: play an episode's prefix once, then continue many branches from it.

A world that supports branching returns a `BranchPoint` (the step where its branches
part, and a content key of everything the prefix depends on). The prefix is played
once per process and key, into its own cassette; each branch rebuilds the world by
re-running the prefix's tool calls and step closes (checking that every observation is the
same, so a branch-only setting that leaked into the prefix is caught), optionally transforms
the history (`TRANSFORMS`), adds the messages its own world writes at the branch point (e.g.
the first brief after it), and continues with its own model and cassette. The prefix may be
played by another model than the branch (cross-model conditioning); its messages are
brought to the canonical OpenAI chat format first (`canonical_messages`, in models.wire beside
the provider records).
"""

from __future__ import annotations

import random
import string
from dataclasses import dataclass
from typing import Callable

from ..errors import DriftError
from ..models.wire import canonical_messages, reasoning_of, text_of  # noqa: F401 - re-exported
from ..models.usage import Usage
from ..world import Environment, Message, rng
from .loop import CLOSE_STEP, EpisodeResult, ExecutedCall, Termination

_WORDS = ("the", "market", "quiet", "river", "table", "seven", "light", "garden", "paper", "slowly", "bright",
          "window", "follows", "under", "morning", "stone", "across", "yellow", "music", "travels", "over", "city")


class BranchMismatch(DriftError):
    """Re-running the prefix's calls in the branch's world gave a different observation."""


@dataclass
class Prefix:
    model: str
    key: str
    result: EpisodeResult
    cassette: str = ""


def rebuild(env: Environment, calls: list[ExecutedCall]) -> list[Message]:
    """Bring a fresh world to the prefix's state by re-running its calls and step closes;
    returns the messages the world wrote after the last of them (the branch point's own)."""
    env.take_messages()
    pending: list[Message] = []
    for i, c in enumerate(calls):
        if c.kind == CLOSE_STEP:
            env.close_step()
        else:
            got = env.call_tool(c.name, c.arguments).observation
            if got != c.observation:
                raise BranchMismatch(f"the branch's world answered call {i} ({c.name}) differently from the prefix's: "
                                     "a branch-only setting changes the prefix (fix the scenario's branch key)")
        pending = env.take_messages()
    return pending


def _sentences(n: int, r: random.Random) -> str:
    out = ""
    while len(out) < n:
        words = [r.choice(_WORDS) for _ in range(r.randint(4, 9))]
        out += (" " if out else "") + " ".join(words).capitalize() + "."
    return out[:n]


def _strings(n: int, r: random.Random) -> str:
    alphabet = string.ascii_letters + string.digits
    return "".join(r.choice(alphabet) if (i + 1) % 8 else " " for i in range(n))


TRANSFORMS: dict[str, Callable[[int, random.Random], str]] = {
    "sentences": _sentences,  # random English-like sentences of the same length
    "strings": _strings,  # random letters and digits of the same length
    "dots": lambda n, r: "." * n,
}


def turn_length(message: Message) -> int:
    """Characters of an agent turn: its text plus each tool call's name and arguments."""
    calls = message.get("tool_calls") or []
    return len(text_of(message.get("content"))) + sum(
        len(c["function"]["name"]) + len(c["function"].get("arguments") or "") for c in calls)


def transform_history(messages: list[Message], kind: str, seed: int) -> list[Message]:
    """Replace each of the agent's own turns, tool calls included, by same-length filler
    (`turn_length`) in a plain assistant message; the tool results of those calls go with
    them (nothing answers a call that is no longer there). The world's messages stay: the
    agent no longer sees what it did, only what it was told."""
    if kind == "none":
        return [dict(m) for m in messages]
    if kind not in TRANSFORMS:
        raise ValueError(f"unknown history transform {kind!r}; known: {['none', *TRANSFORMS]}")
    out: list[Message] = []
    for i, m in enumerate(messages):
        if m.get("role") == "tool":
            continue
        if m.get("role") == "assistant":
            n = turn_length(m)
            out.append({"role": "assistant", "content": TRANSFORMS[kind](n, rng(seed, "ood", kind, i)) if n else ""})
        else:
            out.append(dict(m))
    return out


def merge(prefix: EpisodeResult, branch: EpisodeResult) -> EpisodeResult:
    """One episode's result from its prefix and its branch's continuation."""
    malformed = dict(prefix.malformed)
    for k, v in branch.malformed.items():
        malformed[k] = malformed.get(k, 0) + v
    return EpisodeResult(
        termination=branch.termination, messages=branch.messages, trace=[*prefix.trace, *branch.trace],
        score=branch.score, model_calls=prefix.model_calls + branch.model_calls,
        tool_calls=prefix.tool_calls + branch.tool_calls, retries=prefix.retries + branch.retries,
        malformed=malformed, error=branch.error, snapshots=branch.snapshots,
        executed=[*prefix.executed, *branch.executed], usage=_summed(prefix.usage, branch.usage),
        steps=branch.steps, message_limit=branch.message_limit, miss=branch.miss,
    )


def _summed(a: Usage, b: Usage) -> Usage:
    total = Usage()
    total.add(a)
    total.add(b)
    return total


def ended_early(prefix: EpisodeResult) -> bool:
    """The prefix stopped before its branch point: every branch shares that fate."""
    return prefix.termination is not Termination.BRANCH_POINT
