"""Play a case into an Outcome: the episode (or a branch of a shared prefix), the judge,
and the outcome built once from all of it. A cassette miss is part of what is returned."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from ..errors import CassetteMiss
from ..models.endpoint import request_plan
from ..outcome import Outcome
from ..version import __version__
from .callers import caller_for, played_in
from .case import Case, Settings
from .fork import ForkCase, run_fork
from .audit import audit_fields
from .judge import judge_fields
from .loop import EpisodeMissed, EpisodeResult, MissAt, Termination, run_episode
from .prefixes import Prefixes, limits_for, relative


@dataclass
class Played:
    """A played case: its outcome, the loop's result (None on a miss) and any cassette miss."""

    case: Case
    outcome: Outcome
    result: EpisodeResult | None
    miss: MissAt | None = None

    def miss_message(self, rerecord_flags: Sequence[str] = ()) -> str:
        """What missed, and the command that re-records the episode (`rerecord_flags`: the run's
        options it must repeat, as the plugin's options table says)."""
        assert self.miss is not None
        miss = self.miss
        exists = Path(miss.cassette).exists()
        changed = (f"the request settings changed: {miss.settings} (a recording replays only at the "
                   "settings it was made with)." if miss.settings else
                   "the prompt or the world changed since it was recorded.")
        what = (f"{miss.cassette} has no recorded answer for model call {miss.model_call} (step {miss.step}): "
                f"{changed}" if exists else f"no cassette at {miss.cassette}: this episode was never recorded.")
        flags = [f"--model {self.case.model}", "--record-mode=rewrite", *rerecord_flags]
        return f"cassette miss: {what}\n  re-record: pytest evals -k '{self.case.id}' {' '.join(flags)}"


class Engine:
    """Plays cases with one set of settings; shares prefixes between the cases it plays."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.prefixes = Prefixes(settings)

    def play(self, case: Case) -> Played:
        s = self.settings
        seed, cassette = case.seed(s.drift_seed), case.cassette(s.cassette_dir)
        try:
            result, provenance = self._run(case, seed, cassette)
        except EpisodeMissed as missed:  # the loop's miss, with the step and model call it happened at
            return Played(case, _miss_outcome(case, seed, s, cassette, missed.at), None, missed.at)
        if result.error:  # why the loop stopped (e.g. the context ran out): a transcript rebuilt later shows it
            provenance = {**provenance, "error": result.error}
        extra: dict[str, Any] = {}
        if result.score is not None and result.score.label_status == "ok" \
                and result.termination is not Termination.PROVIDER_ERROR:
            try:
                extra = judge_fields(result.score.fields, s, seed, cassette)
                # review only: adds `audit`, never touches a field the scorers computed
                extra.update(audit_fields(result.score.fields, case.scenario.family, result.messages, result.trace,
                                          s, seed, cassette))
            except CassetteMiss as miss:  # a judge's or auditor's call: outside the loop, no position
                at = MissAt(miss)
                return Played(case, _miss_outcome(case, seed, s, cassette, at), result, at)
        return Played(case, build_outcome(case, seed, result, s, cassette, provenance, extra), result)

    def _run(self, case: Case, seed: int, cassette: Path) -> tuple[EpisodeResult, dict[str, str]]:
        if isinstance(case, ForkCase):  # a recorded episode continued from its step K
            result, provenance = run_fork(case, self.settings, seed, cassette)
            return result, provenance
        env, point = case.world(self.settings.drift_seed)
        if point is not None:
            result, prefix = self.prefixes.branch(case, seed, env, point, cassette)
            provenance = {"prefix_model": prefix.model}
            if prefix.cassette:
                provenance["prefix_cassette"] = prefix.cassette
            return result, provenance
        caller, ctx = caller_for(case.model, case.scenario, env, self.settings, seed, cassette)
        result = played_in(ctx, lambda: run_episode(env, caller, limits_for(self.settings, case.model)))
        return result, {}


def play(case: Case, settings: Settings) -> Played:
    """Play one case with a fresh engine (no prefixes shared with other calls)."""
    return Engine(settings).play(case)


def _base_fields(case: Case, seed: int, settings: Settings, cassette: Path,
                 provenance: dict[str, str]) -> dict[str, Any]:
    prov: dict[str, Any] = {"pytest_drift": __version__, "record_mode": settings.record_mode}
    if case.model_id.is_model:
        prov["cassette"] = relative(cassette, settings.cassette_dir.parent)
        # what the requests carried and what was changed from what was asked (models.request)
        prov["request"] = request_plan(case.model_id, settings.decoding_for(case.model)).provenance()
    prov.update(provenance)
    v = case.variant
    return {
        "episode_id": case.id, "model": case.model, "scenario": case.scenario.name,
        "family": case.scenario.family, "variant": v.name, "repeat": case.repeat, "seed": seed,
        "factors": dict(v.factors), "baseline_variant": v.baseline,
        "headline": case.scenario.headline, "threshold": case.scenario.threshold, "better": case.scenario.better,
        "provenance": prov,
    }


def build_outcome(case: Case, seed: int, result: EpisodeResult, settings: Settings, cassette: Path,
                  provenance: dict[str, str], extra_fields: dict[str, Any]) -> Outcome:
    base = _base_fields(case, seed, settings, cassette, provenance)
    if result.score is None or result.termination is Termination.PROVIDER_ERROR:
        return Outcome(**base, label_status="unknown", label_reason=result.error or "provider error",
                       termination=result.termination.value, model_calls=result.model_calls,
                       message_limit=result.message_limit,
                       retries=result.retries, usage=dataclasses.replace(result.usage))
    score = result.score
    return Outcome(
        **base, label_status=score.label_status, label_reason=score.label_reason,
        termination=result.termination.value, steps=result.steps, model_calls=result.model_calls,
        message_limit=result.message_limit, tool_calls=result.tool_calls, retries=result.retries,
        usage=dataclasses.replace(result.usage),
        malformed=result.malformed,
        metrics=score.metrics, series=score.series, fields={**score.fields, **extra_fields}, trace=result.trace,
        violations=list(score.violations),
    )


def _miss_outcome(case: Case, seed: int, settings: Settings, cassette: Path, miss: MissAt) -> Outcome:
    return Outcome(**_base_fields(case, seed, settings, cassette, {}), label_status="unknown",
                   label_reason=_miss_reason(miss), termination=Termination.CASSETTE_MISS.value,
                   model_calls=miss.model_call or 0)


def _miss_reason(miss: MissAt) -> str:
    """The label reason of a missed episode; the claim gate (report.claim) reads the second form."""
    if miss.settings:
        return f"cassette miss at step {miss.step}: recorded under other request settings ({miss.settings})"
    return f"cassette miss at step {miss.step}"
