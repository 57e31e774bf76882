"""Shared prefixes: a branching world's common first part, played once per key and reused."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

from ..models import parse_model
from ..models.paths import model_slug
from ..world import BranchPoint, Environment, Message, prefix_seed
from .branching import Prefix, canonical_messages, ended_early, merge, rebuild, transform_history
from .callers import caller_for, played_in
from .case import Case, Settings
from .loop import EpisodeResult, Limits, Termination, run_episode


def prefix_cassette(root: Path, model: str, scenario: str, point: BranchPoint, repeat: int) -> Path:
    """`_prefix/<label>-<key>/shared.yaml` for a prefix of every repeat, else `.../r<k>.yaml`."""
    name = "shared.yaml" if point.shared else f"r{repeat}.yaml"
    return root / model_slug(model) / scenario / "_prefix" / f"{point.label}-{point.key(model)}" / name


def limits_for(settings: Settings, model: str) -> Limits:
    """The run's limits for one model: its own message limit, if it has one."""
    limits, own = settings.limits, parse_model(model).message_limit
    if own is not None:
        limits = dataclasses.replace(limits, message_limit=own)
    return limits


def relative(path: Path, root: Path) -> str:
    try:
        return str(path.resolve().relative_to(root.resolve()))
    except ValueError:
        return str(path)


def continued_history(history: list[Message], prefix_model: str, model: str) -> list[Message]:
    """What a branch continues from: the same model gets its own conversation as its provider
    sent it (thinking blocks and signatures included), another model the plain conversation
    (provider-only fields dropped)."""
    return history if prefix_model == model else canonical_messages(history)


def play_prefix(case: Case, seed: int, point: BranchPoint, model: str, settings: Settings,
                stop_at_step: int | None = None) -> tuple[EpisodeResult, Path]:
    """Play (or replay) the case's prefix with `model` into its cassette, to the branch point or
    to `stop_at_step` before it (a fork or a checkpoint inside phase 1). A shared prefix is
    played with the prefix seed (world and sampling), whichever repeat asks first, so its
    cassette is the same whatever the order."""
    cassette = prefix_cassette(settings.cassette_dir, model, case.scenario.name, point, case.repeat)
    if point.shared:
        seed = prefix_seed(case.scenario.name, settings.drift_seed)
        env = case.scenario.build(case.variant, seed, prefix_seed=seed)
    else:
        env = case.scenario.build(case.variant, seed)
    stop = point.step if stop_at_step is None else min(stop_at_step, point.step)
    caller, ctx = caller_for(model, case.scenario, env, settings, seed, cassette)
    return played_in(ctx, lambda: run_episode(env, caller, limits_for(settings, model), stop_at_step=stop)), cassette


class Prefixes:
    """Prefixes played in this process, by (cassette root, prefix model, key)."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._played: dict[tuple[str, str, str], Prefix] = {}
        self._locks: dict[tuple[str, str, str], threading.Lock] = {}  # episodes on threads play a prefix once
        self._lock = threading.Lock()

    def get(self, case: Case, seed: int, point: BranchPoint) -> Prefix:
        s = self.settings
        model = s.prefix_model or case.model
        slot = (str(s.cassette_dir), model, point.key(model))
        with self._lock:
            lock = self._locks.setdefault(slot, threading.Lock())
        with lock:
            if slot not in self._played:
                self._played[slot] = self._play(case, seed, point, model)
        return self._played[slot]

    def _play(self, case: Case, seed: int, point: BranchPoint, model: str) -> Prefix:
        s = self.settings
        result, cassette = play_prefix(case, seed, point, model, s)
        shown = "" if parse_model(model).is_policy else relative(cassette, s.cassette_dir.parent)
        return Prefix(model, point.key(model), result, shown)

    def branch(self, case: Case, seed: int, env: Environment, point: BranchPoint,
               cassette: Path) -> tuple[EpisodeResult, Prefix]:
        """Continue the case from its prefix in a rebuilt world."""
        prefix = self.get(case, seed, point)
        if prefix.result.termination is Termination.PROVIDER_ERROR:
            return prefix.result, prefix
        opening = rebuild(env, prefix.result.executed)
        if ended_early(prefix.result):
            env.finish()
            done = EpisodeResult(prefix.result.termination, prefix.result.messages, [], env.score(),
                                 error=prefix.result.error, snapshots=env.snapshots)
            return merge(prefix.result, done), prefix
        history = transform_history(prefix.result.messages, point.transform, seed)
        messages = continued_history(history, prefix.model, case.model) + opening
        caller, ctx = caller_for(case.model, case.scenario, env, self.settings, seed, cassette)
        rest = played_in(ctx, lambda: run_episode(env, caller, limits_for(self.settings, case.model),
                                                  messages=messages))
        return merge(prefix.result, rest), prefix
