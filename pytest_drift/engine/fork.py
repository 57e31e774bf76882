"""Forks: continue a recorded episode from its step K with another model (or the same one),
optionally with an intervention - the goal-drift harness's `--branch_from RUN TIMESTEP`, and a
counterfactual any recorded history can become.

The world is rebuilt by replaying the source's model calls up to step K from its cassette
(no network: a source whose prompts changed since it was recorded is a miss, named); the
fork then plays on from the same messages and world state with its own model, into a
cassette of its own, so it replays offline like any episode (the prefix from the source's
cassette, the rest from its own). An intervention - a message inserted at K, and the world's
`on_fork` hook - is part of the fork's id, so an intervened fork is never read as the plain one.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import CassetteMiss, DriftError
from ..models.paths import model_from_slug, model_slug
from ..world import Environment, Scenario
from .callers import caller_for, played_in
from .case import Case, Settings
from .branching import merge
from .loop import EpisodeResult, Termination, run_episode
from .prefixes import continued_history, limits_for, relative

FORK_SEP = "@"


class ForkError(DriftError):
    """A fork that cannot be played (a usage error, before any call)."""


@dataclass(frozen=True)
class ForkCase(Case):
    """A case continued from a recorded episode (`source`) at the world's step `at_step`."""

    source_model: str = ""
    at_step: int = 0
    message: str = ""  # an intervention inserted at the fork point ("" - none)

    @property
    def source(self) -> Case:
        return Case(self.source_model, self.scenario, self.variant, self.repeat)

    @property
    def intervened(self) -> bool:
        return bool(self.message)

    @property
    def id(self) -> str:
        tag = f"+intervened-{_digest(self.message)[:6]}" if self.message else ""
        return f"{self.source.id}{FORK_SEP}{self.at_step}->{self.model}{tag}"

    def cassette(self, root: Path) -> Path:
        tag = f"-i{_digest(self.message)[:6]}" if self.message else ""
        own = self.source.cassette(root)
        return root / model_slug(self.model) / self.scenario.name / self.variant.name / \
            f"{own.stem}.fork-{model_slug(self.source_model)}-at{self.at_step}{tag}.yaml"


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def recorded_ids(root: Path, registry: Mapping[str, Scenario]) -> dict[str, Case]:
    """Every recorded episode under the cassette root, by episode id (forks' own cassettes aside)."""
    out: dict[str, Case] = {}
    if not root.is_dir():
        return out
    for path in root.glob("*/*/*/r*.yaml"):
        if "." in path.stem:  # a fork's, a judge's or a prefix's file, not an episode's
            continue
        model, scenario, variant = model_from_slug(path.parts[-4]), path.parts[-3], path.parts[-2]
        sc = registry.get(scenario)
        if sc is None or not path.stem[1:].isdigit() or variant not in {v.name for v in sc.variants}:
            continue
        case = Case(model, sc, sc.variant(variant), int(path.stem[1:]))
        out[case.id] = case
    return out


def nearest_ids(episode: str, known: list[str], root: Path) -> str:
    """`; nearest recorded: ...` for an id that is not recorded (or where nothing is)."""
    if not known:
        return f"; nothing is recorded under {root}"
    near = difflib.get_close_matches(episode, known, n=3, cutoff=0.3) or sorted(known)[:3]
    return f"; nearest recorded: {', '.join(near)} ({len(known)} episodes under {root})"


def recorded_case(episode: str, root: Path, registry: Mapping[str, Scenario]) -> Case:
    """The recorded episode `episode`; an unknown id is a ForkError naming the nearest ones."""
    known = recorded_ids(root, registry)
    if episode not in known:
        raise ForkError(f"no recorded episode {episode!r}{nearest_ids(episode, list(known), root)}")
    return known[episode]


def parse_fork(spec: str, root: Path, registry: Mapping[str, Scenario]) -> tuple[Case, int]:
    """`EPISODE_ID@K` -> (the recorded source case, K); unknown ids name the nearest ones."""
    episode, sep, k = spec.rpartition(FORK_SEP)
    if not sep or not k.isdigit():
        raise ForkError(f"--drift-fork {spec!r}: expected EPISODE_ID@K, e.g. openai/gpt-4o-mini-release_manager-default-r0@5")
    try:
        return recorded_case(episode, root, registry), int(k)
    except ForkError as exc:
        raise ForkError(f"--drift-fork {spec!r}: {exc}") from None


def check_fork(source: Case, step: int, replay: Callable[[Case], Any]) -> int:
    """Replay the source whole from its cassette (`replay`: an Engine's `play` at record mode
    none, so no network) and return its steps: K must lie in 0..steps, and a source that no
    longer replays (its scenario or prompt changed) is refused."""
    played = replay(source)
    if played.miss is not None:
        raise ForkError(f"--drift-fork {source.id}@{step}: the source no longer replays (recorded under another "
                        f"scenario version or prompt: no answer for model call {played.miss.model_call} in "
                        f"{played.miss.cassette})")
    steps = played.result.steps if played.result is not None else 0
    if not 0 <= step <= steps:
        raise ForkError(f"--drift-fork {source.id}@{step}: K must lie in 0..{steps} (the source's steps)")
    return steps


@dataclass
class Checkpoint:
    """A recorded episode's world and conversation at a step, rebuilt from its cassette."""

    env: Environment
    prefix: EpisodeResult  # the replayed calls (BRANCH_POINT: stopped at the step asked for)
    cassette: Path  # the source's cassette it was replayed from


def replay_to(source: Case, step: int | None, settings: Settings, seed: int) -> Checkpoint:
    """Replay the source's model calls from its cassette until its world reaches `step` (None:
    to its end). Record mode none: nothing reaches the network, and a request the cassette does
    not hold raises CassetteMiss. The world's messages for `step` itself stay in `env` (its
    `take_messages`), as a branch point leaves them to whoever continues."""
    env, point = source.world(settings.drift_seed)
    if point is not None:
        raise ForkError(f"{source.scenario.name} branches from shared prefixes: fork one of its branches' cassettes "
                        "is not supported yet")
    replay = dataclasses.replace(settings, record_mode="none")
    cassette = source.cassette(settings.cassette_dir)
    caller, ctx = caller_for(source.model, source.scenario, env, replay, seed, cassette)
    prefix = played_in(ctx, lambda: run_episode(env, caller, limits_for(replay, source.model), stop_at_step=step))
    return Checkpoint(env, prefix, cassette)


def run_fork(case: ForkCase, settings: Settings, seed: int, cassette: Path) -> tuple[EpisodeResult, dict[str, str]]:
    """The source replayed to step K, then the fork's model from there."""
    source = case.source
    point = replay_to(source, case.at_step, settings, seed)
    env, prefix, source_cassette = point.env, point.prefix, point.cassette
    if prefix.termination is not Termination.BRANCH_POINT:
        raise ForkError(f"{source.id} ended at step {env.step} ({prefix.termination.value}) before step {case.at_step}")
    messages = continued_history(prefix.messages, source.model, case.model) + env.take_messages()
    if case.message:
        messages.append({"role": "user", "content": case.message})
        env.on_fork(case.message)
    caller, ctx = caller_for(case.model, case.scenario, env, settings, seed, cassette)
    rest = played_in(ctx, lambda: run_episode(env, caller, limits_for(settings, case.model), messages=messages))
    provenance = {"fork_of": source.id, "fork_step": str(case.at_step),
                  "fork_source_cassette": relative(source_cassette, settings.cassette_dir.parent),
                  "fork_source_sha256": hashlib.sha256(source_cassette.read_bytes()).hexdigest()}
    if case.message:
        provenance["fork_intervention"] = case.message
    result = merge(prefix, rest)
    result.usage = rest.usage  # the fork pays for its own calls only; the source's were paid when recorded
    return result, provenance


def checkpoint(source: Case, step: int, settings: Settings) -> Checkpoint:
    """A recorded episode's world and conversation at its step `step` (the goal-drift harness's
    checkpoint), replayed offline; a step outside 0..steps, or a source that no longer replays,
    is a ForkError saying so."""
    try:  # a negative step replays the whole episode: its steps name the valid range
        point = replay_to(source, step if step >= 0 else None, settings, source.seed(settings.drift_seed))
    except CassetteMiss as miss:
        raise ForkError(f"{source.id} no longer replays (recorded under another scenario version, prompt or "
                        f"settings: no answer for model call {miss.model_call} in {miss.cassette})") from None
    if point.env.step != step:
        raise ForkError(f"{source.id}: step {step} is out of range; K must lie in 0..{point.env.step} "
                        "(the episode's steps)")
    return point
