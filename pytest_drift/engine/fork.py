"""Forks: continue a recorded episode from its step K with another model (or the same one),
optionally with an intervention - the goal-drift harness's `--branch_from RUN TIMESTEP`, and a
counterfactual any recorded history can become.

The world is rebuilt by replaying the source's model calls up to step K from its cassette
(no network: a source whose prompts changed since it was recorded is a miss, named); the
fork then plays on from the same messages and world state with its own model, into a
cassette of its own, so it replays offline like any episode (the prefix from the source's
cassette, the rest from its own). An intervention - a message inserted at K, and the world's
`on_fork` hook - is part of the fork's id, so an intervened fork is never read as the plain one.

A branch of a shared prefix (engine.prefixes) is replayed as it was played: its prefix from the
prefix's cassette (only to K when K lies inside it), the branch's world rebuilt from the prefix's
calls, then the branch from its own cassette. A fork inside the prefix plays on through the
branch point, where the source's history transform applies to its conversation too.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from ..errors import DriftError
from ..models import ModelCaller
from ..models.paths import model_from_slug, model_slug
from ..world import BranchPoint, Environment, Message, Scenario
from .branching import ended_early, merge, rebuild, transform_history
from .callers import caller_for, played_in
from .case import Case, Settings
from .loop import EpisodeMissed, EpisodeResult, Limits, Termination, run_episode
from .prefixes import continued_history, limits_for, play_prefix, prefix_cassette, relative

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


def check_fork(source: Case, step: int, replay: Callable[[Case], Any], drift_seed: int = 0) -> int:
    """Replay the source whole from its cassette (`replay`: an Engine's `play` at record mode
    none, so no network) and return its steps: K must lie in `step_range`; a source that no
    longer replays (its scenario or prompt changed) is refused."""
    played = replay(source)
    if played.miss is not None:
        raise ForkError(f"--drift-fork {source.id}@{step}: the source no longer replays (recorded under another "
                        f"scenario version or prompt: no answer for model call {played.miss.model_call} in "
                        f"{played.miss.cassette})")
    result = played.result
    assert result is not None  # only a miss leaves none
    first, last, note = step_range(source, result, drift_seed)
    if not first <= step <= last:
        raise ForkError(f"--drift-fork {source.id}@{step}: K must lie in {first}..{last} (the source's steps{note})")
    return int(result.steps)


def step_range(source: Case, result: EpisodeResult, drift_seed: int) -> tuple[int, int, str]:
    """The steps a fork or a checkpoint of a played episode may start at, and why the range ends
    early if it does: from the world's first step (a world may open past 0: hedge_fund's
    complexity baseline takes over at quarter N) to the step the episode stopped in."""
    first, last = source.world(drift_seed)[0].step, last_step(source, result, drift_seed)
    note = (f"; it ended in step {last} ({result.termination.value}), the steps after it passed idle"
            if last < result.steps else "")
    return first, last, note


def last_step(source: Case, result: EpisodeResult, drift_seed: int) -> int:
    """The step a played episode stopped in: its last step when it ran to its end, else the step
    its world was in after the last call it ran (a world that finishes early lets the remaining
    steps pass idle; no model was asked there, so no fork or checkpoint starts there). Found by
    re-running its calls in a fresh world, as a branch rebuilds its prefix."""
    if result.termination in (Termination.DONE, Termination.BRANCH_POINT):
        return result.steps
    env, _ = source.world(drift_seed)
    if env.world_models():  # a world that calls models itself cannot be rebuilt without them
        return result.steps
    rebuild(env, result.executed)
    return env.step


@dataclass
class Checkpoint:
    """A recorded episode's world and conversation at a step, rebuilt from its cassette (and,
    for a branch of a shared prefix, from the prefix's cassette first)."""

    env: Environment
    prefix: EpisodeResult  # the replayed calls (BRANCH_POINT: stopped at the step asked for)
    cassette: Path  # the source's cassette (a branch's own, for a branching source)
    pending: list[Message] = field(default_factory=list)  # the world's messages for the step, not yet in `prefix`
    history_model: str = ""  # whose wire format `prefix.messages` are in (a prefix's model inside phase 1)
    prefix_cassette: Path | None = None  # a branching source's prefix cassette
    branch: BranchPoint | None = None  # a branching source's branch point, when the step lies before it

    @property
    def messages(self) -> list[Message]:
        """The conversation the next model call at the step would be sent."""
        return [*self.prefix.messages, *self.pending]

    @property
    def cassettes(self) -> list[Path]:
        return [p for p in (self.prefix_cassette, self.cassette) if p is not None]


def replay_to(source: Case, step: int | None, settings: Settings, seed: int) -> Checkpoint:
    """Replay the source's model calls from its cassette until its world reaches `step` (None:
    to its end). Record mode none: nothing reaches the network, and a request the cassette does
    not hold raises EpisodeMissed (the miss and where it happened). The world's messages for
    `step` itself are the checkpoint's `pending`, as a branch point leaves them to whoever continues."""
    env, point = source.world(settings.drift_seed)
    replay = dataclasses.replace(settings, record_mode="none")
    cassette = source.cassette(settings.cassette_dir)
    if point is not None:
        at = _replay_branch(source, env, point, step, replay, seed, cassette)
    else:
        caller, ctx = caller_for(source.model, source.scenario, env, replay, seed, cassette)
        prefix = played_in(ctx, lambda: run_episode(env, caller, limits_for(replay, source.model), stop_at_step=step))
        at = Checkpoint(env, prefix, cassette, env.take_messages(), source.model)
    at.prefix.steps = env.step
    return at


def prefix_model_of(source: Case, point: BranchPoint, settings: Settings) -> str:
    """The model whose prefix the source branched from: --drift-prefix-model when given, else
    the source's own model if its prefix was recorded, else the one model whose recorded
    prefix has this key (cross-model conditioning), else the source's own (its miss names it)."""
    if settings.prefix_model:
        return settings.prefix_model
    root, name = settings.cassette_dir, source.scenario.name
    if prefix_cassette(root, source.model, name, point, source.repeat).is_file():
        return source.model
    found = sorted(model_from_slug(d.name) for d in root.iterdir() if d.is_dir()) if root.is_dir() else []
    found = [m for m in found if prefix_cassette(root, m, name, point, source.repeat).is_file()]
    return found[0] if len(found) == 1 else source.model


def replay_settings(source: Case, settings: Settings) -> Settings:
    """The settings the source replays at: record mode none and, for a branch, the model that
    played its prefix (`prefix_model_of`), so an Engine replays it whole as it was recorded."""
    replay = dataclasses.replace(settings, record_mode="none")
    point = source.world(settings.drift_seed)[1]
    return replay if point is None else dataclasses.replace(replay, prefix_model=prefix_model_of(source, point, replay))


def _replay_branch(source: Case, env: Environment, point: BranchPoint, step: int | None, settings: Settings,
                   seed: int, cassette: Path) -> Checkpoint:
    """A branch of a shared prefix, replayed as it was played (engine.prefixes): the prefix from
    its own cassette (to `step` if it lies before the branch point), the world rebuilt from the
    prefix's calls, then the branch from its cassette with the history as the branch saw it."""
    model = prefix_model_of(source, point, settings)
    first, prefix_path = play_prefix(source, seed, point, model, settings, stop_at_step=step)
    if first.termination is Termination.PROVIDER_ERROR:
        raise ForkError(f"{source.id}: its prefix ({prefix_path}) does not replay: {first.error}")
    opening = rebuild(env, first.executed)
    if ended_early(first):  # the prefix ended before the step asked for: so did the episode
        env.finish()
        done = EpisodeResult(first.termination, first.messages, [], env.score(), error=first.error,
                             snapshots=env.snapshots)
        return Checkpoint(env, merge(first, done), cassette, [], model, prefix_path)
    if step is not None and step < point.step:  # inside phase 1: the prefix's own conversation
        return Checkpoint(env, first, cassette, opening, model, prefix_path, point)
    history = continued_history(transform_history(first.messages, point.transform, seed), model, source.model)
    caller, ctx = caller_for(source.model, source.scenario, env, settings, seed, cassette)
    rest = played_in(ctx, lambda: run_episode(env, caller, limits_for(settings, source.model),
                                              messages=history + opening, stop_at_step=step))
    return Checkpoint(env, merge(first, rest), cassette, env.take_messages(), source.model, prefix_path)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _continue(point: Checkpoint, caller: ModelCaller, limits: Limits, seed: int,
              messages: list[Message]) -> EpisodeResult:
    """The fork's model from K on. A fork inside a branching source's phase 1 meets the branch
    point itself: there the source's history transform applies to its conversation, as it did
    to the source's, and the world's opening messages follow."""
    env, branch = point.env, point.branch
    if branch is None:
        return run_episode(env, caller, limits, messages=messages)
    head = run_episode(env, caller, limits, messages=messages, stop_at_step=branch.step)
    if ended_early(head):
        return head
    history = transform_history(head.messages, branch.transform, seed) + env.take_messages()
    return merge(head, run_episode(env, caller, limits, messages=history))


def run_fork(case: ForkCase, settings: Settings, seed: int, cassette: Path) -> tuple[EpisodeResult, dict[str, str]]:
    """The source replayed to step K, then the fork's model from there."""
    source = case.source
    point = replay_to(source, case.at_step, settings, seed)
    env, prefix = point.env, point.prefix
    if prefix.termination is not Termination.BRANCH_POINT:
        raise ForkError(f"{source.id} ended at step {env.step} ({prefix.termination.value}) before step {case.at_step}")
    messages = continued_history(prefix.messages, point.history_model, case.model) + point.pending
    if case.message:
        messages.append({"role": "user", "content": case.message})
        env.on_fork(case.message)
    caller, ctx = caller_for(case.model, case.scenario, env, settings, seed, cassette)
    limits = limits_for(settings, case.model)
    rest = played_in(ctx, lambda: _continue(point, caller, limits, seed, messages))
    root = settings.cassette_dir.parent
    provenance = {"fork_of": source.id, "fork_step": str(case.at_step),
                  "fork_source_cassette": relative(point.cassette, root), "fork_source_sha256": _sha256(point.cassette)}
    if point.prefix_cassette is not None:  # a branch: the world at K comes from its prefix's cassette too
        provenance.update({"fork_prefix_cassette": relative(point.prefix_cassette, root),
                           "fork_prefix_sha256": _sha256(point.prefix_cassette)})
    if case.message:
        provenance["fork_intervention"] = case.message
    result = merge(prefix, rest)
    result.usage = rest.usage  # the fork pays for its own calls only; the source's were paid when recorded
    return result, provenance


def checkpoint(source: Case, step: int, settings: Settings) -> Checkpoint:
    """A recorded episode's world and conversation at its step `step` (the goal-drift harness's
    checkpoint), replayed offline; a step outside 0..steps, or a source that no longer replays,
    is a ForkError saying so."""
    seed = source.seed(settings.drift_seed)
    try:  # a negative step replays the whole episode: its steps name the valid range
        point = replay_to(source, step if step >= 0 else None, settings, seed)
    except EpisodeMissed as missed:
        miss = missed.at
        raise ForkError(f"{source.id} no longer replays (recorded under another scenario version, prompt or "
                        f"settings: no answer for model call {miss.model_call} in {miss.cassette})") from None
    if point.env.step != step:  # a world that opened past the step stopped there: the whole episode names the range
        whole = replay_to(source, None, settings, seed) if point.prefix.termination is Termination.BRANCH_POINT else point
        first, last, note = step_range(source, whole.prefix, settings.drift_seed)
        raise ForkError(f"{source.id}: step {step} is out of range; K must lie in {first}..{last} (the episode's "
                        f"steps{note})")
    return point
