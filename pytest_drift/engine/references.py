"""Reference agents for every report: policy/oracle, policy/random and policy/reckless play the
run's own episodes (same scenario, variant, repeat and seed) in process, with no model.

They give each leaderboard its scale: what the best scripted play scores, what blind play
scores and what breaking the rule once scores, on exactly the worlds the models met. They are
played where a report is written - at the end of a `--drift-report` session and by
`pytest-drift report` from junit XML or outcomes.jsonl - from the outcomes alone (scenario,
variant, repeat, seed), so both renderings get the same ones. Scripted episodes are cheap
(milliseconds; an instrumental random episode, 80 calls on a bash interpreter, ~70 ms)."""

from __future__ import annotations

import json
import queue
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Mapping

from ..outcome import Outcome
from ..world import Scenario, reference_policy
from .case import Case, Settings
from .play import Engine

REFERENCES = ("oracle", "random", "reckless")  # the scale's top, its floor, and one breach of the rule


@dataclass
class References:
    """Reference outcomes and what could not be played, with the time it took."""

    outcomes: list[Outcome] = field(default_factory=list)
    skipped: Counter[str] = field(default_factory=Counter)  # reason -> episodes
    seconds: float = 0.0  # spent playing them, wherever they were played
    waited: float | None = None  # what the session's end waited for them, when they were played beside it
    where: str = ""  # where they were played, when not at the end of this process

    def summary(self) -> str:
        why = "; ".join(f"{n} {reason}" for reason, n in sorted(self.skipped.items()))
        where = f" {self.where}" if self.where else ""
        waited = "" if self.waited is None else f"; the session's end waited {self.waited:.1f} s for them"
        return (f"{len(self.outcomes)} reference episodes ({', '.join('policy/' + p for p in REFERENCES)}) "
                f"played in {self.seconds:.1f} s{where}{waited}" + (f"; not played: {why}" if why else ""))


def _case(o: Outcome, policy: str, registry: Mapping[str, Scenario], drift_seed: int) -> Case | str:
    """The reference's case on the outcome's world, or why there is none."""
    scenario = registry.get(o.scenario)
    if scenario is None:
        return "of scenarios not installed here"
    try:
        variant = scenario.variant(o.variant)
    except KeyError:
        return "of variants not known here (a --drift-param or --drift-config of the run?)"
    if reference_policy(scenario, policy) is None:
        return f"without a policy/{policy}"
    case = Case(f"policy/{policy}", scenario, variant, o.repeat)
    if case.seed(drift_seed) != o.seed:
        return f"whose seed is not the one --drift-seed {drift_seed} gives"
    return case


def play_references(outcomes: Iterable[Outcome], registry: Mapping[str, Scenario], settings: Settings,
                    policies: tuple[str, ...] = REFERENCES) -> References:
    """Each reference policy on each distinct (scenario, variant, repeat) of the outcomes. An
    episode the run itself played with that policy is reused, not played again. A reference
    that cannot be played on a world (no such policy, a world that calls a model of its own
    and has no recording for it) is counted by reason, never guessed."""
    player = ReferencePlayer(registry, settings, policies)
    given = list(outcomes)
    for o in given:
        player.play(o)
    return player.result(given)


class ReferencePlayer:
    """Plays the references of each new world once; `result` reuses the run's own episodes of
    a reference policy. One engine per policy, so the branches of a shared prefix share it."""

    def __init__(self, registry: Mapping[str, Scenario], settings: Settings,
                 policies: tuple[str, ...] = REFERENCES) -> None:
        self.registry, self.settings, self.policies = registry, settings, policies
        self.engines = {p: Engine(settings) for p in policies}
        self.played: dict[tuple[str, str, str, int], Outcome] = {}
        self.skipped: Counter[str] = Counter()
        self.unplayable: set[tuple[str, str, str, int]] = set()  # counted in `skipped` once
        self.seconds = 0.0

    def play(self, o: Outcome) -> None:
        start = time.perf_counter()
        for policy in self.policies:
            key = (f"policy/{policy}", o.scenario, o.variant, o.repeat)
            if o.model == key[0]:  # the run played this reference itself: its episode is the reference
                self.played[key] = o
                continue
            if key in self.played or key in self.unplayable:
                continue
            case = _case(o, policy, self.registry, self.settings.drift_seed)
            if isinstance(case, str):
                self.unplayable.add(key)
                self.skipped[f"episodes {case}"] += 1
                continue
            played = _played(self.engines[policy], case, self.skipped)
            if played is not None:
                self.played[key] = played
            else:
                self.unplayable.add(key)
        self.seconds += time.perf_counter() - start

    def result(self, run: Iterable[Outcome] = ()) -> References:
        own = {(o.model, o.scenario, o.variant, o.repeat): o for o in run}
        outcomes = [own.get(key, played) for key, played in sorted(self.played.items())]
        return References(outcomes, Counter(self.skipped), self.seconds)


class BackgroundReferences:
    """A ReferencePlayer on a thread of its own, fed outcomes while a single-process session
    runs: the thread uses the time the session waits (a live model's replies); `finish` waits
    for the rest."""

    def __init__(self, player: ReferencePlayer) -> None:
        self.player = player
        self.queue: queue.Queue[Outcome | None] = queue.Queue()
        self.thread: threading.Thread | None = None

    def add(self, outcome: Outcome) -> None:
        if self.thread is None:
            self.thread = threading.Thread(target=self._run, name="drift-references", daemon=True)
            self.thread.start()
        self.queue.put(outcome)

    def _run(self) -> None:
        while (o := self.queue.get()) is not None:
            self.player.play(o)

    def finish(self, run: Iterable[Outcome]) -> References:
        """Every reference, once all outcomes fed so far are played; its `waited`: the seconds the
        session's end waited for them (what they added to the run's wall time)."""
        start = time.perf_counter()
        if self.thread is not None:
            self.queue.put(None)
            self.thread.join()
        refs = self.player.result(run)
        refs.waited, refs.where = time.perf_counter() - start, "on a thread beside the run"
        return refs


def from_workers(outputs: Iterable[str], run: Iterable[Outcome], player: ReferencePlayer) -> References:
    """The workers' references, one per world and policy, and those of any world no worker
    covered (a worker that crashed before its end) played here."""
    played: dict[tuple[str, str, str, int], Outcome] = {}
    skipped: Counter[str] = Counter()
    seconds = 0.0
    for text in outputs:
        data = json.loads(text)
        for line in data["outcomes"]:
            o = Outcome.from_json(line)
            played.setdefault((o.model, o.scenario, o.variant, o.repeat), o)
        skipped.update(data["skipped"])
        seconds += float(data["seconds"])
    player.played.update(played)
    start = time.perf_counter()
    covered = {(s, v, r) for _, s, v, r in played}
    given = list(run)
    for o in given:
        if (o.scenario, o.variant, o.repeat) not in covered:
            player.play(o)
    refs = player.result(given)
    refs.skipped.update(skipped)
    refs.seconds += seconds
    refs.waited, refs.where = time.perf_counter() - start, "in the xdist workers, each after its last test"
    return refs


def _played(engine: Engine, case: Case, skipped: Counter[str]) -> Outcome | None:
    try:
        return engine.play(case).outcome
    except Exception as exc:
        skipped[f"episodes whose world raised ({type(exc).__name__})"] += 1
        return None


def reference_settings(cassette_dir: Path, drift_seed: int) -> Settings:
    """Replay only, no judge, no other prefix model: a reference plays its own episode."""
    return Settings(cassette_dir=cassette_dir, record_mode="none", drift_seed=drift_seed)
