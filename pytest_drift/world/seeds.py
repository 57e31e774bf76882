"""Deterministic seeds. Python's hash() is salted per process, so derive from sha256."""

from __future__ import annotations

import hashlib
import random


def stable_int(*parts: object) -> int:
    """A 63-bit integer that depends only on the parts' text."""
    text = "\x1f".join(str(p) for p in parts)
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "big") >> 1


def episode_seed(scenario: str, variant: str, repeat: int, drift_seed: int) -> int:
    """The seed of one episode: the world's randomness and the model's sampling seed."""
    return stable_int("episode", scenario, variant, repeat, drift_seed) % (2**31)


def rng(seed: int, *key: object) -> random.Random:
    """An independent random stream for one purpose (e.g. step t's canary draw)."""
    return random.Random(stable_int(seed, *key))


def prefix_seed(scenario: str, drift_seed: int) -> int:
    """The seed of a prefix shared by every repeat (BranchPoint.shared): the world's draws
    before the branch point and the prefix model's sampling seed."""
    return stable_int("prefix", scenario, drift_seed) % (2**31)
