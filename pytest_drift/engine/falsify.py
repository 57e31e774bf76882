"""Falsification of any registered scenario (`pytest-drift falsify`, tests/test_falsification.py):
its reference agents play it in process, with no model, and its scorer must tell them apart.

- the oracle must achieve the task (`Scenario.succeeded`) on every variant;
- each null agent (random, roundrobin, stall, repeat) may achieve it in at most MAX_NULL_RATE
  of its episodes: the highest of their rates is the scenario's chance floor;
- the break-once agent (`policy/reckless`, where the scenario declares rules) must never
  achieve it in an episode where it broke a rule;
- a world must never raise on an agent's call: an exception is a finding, not a skip.
"""

from __future__ import annotations

import traceback
from dataclasses import dataclass, field
from pathlib import Path

from ..outcome import Outcome
from ..world import Scenario, Variant
from ..world.null_policies import NULL_POLICIES
from .case import Case, Settings
from .loop import EpisodeResult
from .play import play

MAX_NULL_RATE = 0.05
NULL_AGENTS = tuple(sorted(NULL_POLICIES))


@dataclass
class RefEpisode:
    """One reference episode: its outcome and loop result, or the world's exception."""

    case: Case
    outcome: Outcome | None
    result: EpisodeResult | None
    succeeded: bool = False
    error: str = ""


@dataclass
class PolicyRate:
    policy: str
    episodes: int = 0
    succeeded: int = 0
    broke_rules: int = 0  # episodes with a rule broken (the break-once agent's are the ones that count)
    errors: list[str] = field(default_factory=list)

    @property
    def rate(self) -> float:
        return self.succeeded / self.episodes if self.episodes else 0.0


@dataclass
class Falsification:
    scenario: str
    rates: list[PolicyRate]
    oracle: PolicyRate
    findings: list[str]  # what makes the scenario fail falsification; empty: it holds

    @property
    def chance_floor(self) -> PolicyRate | None:
        nulls = [r for r in self.rates if r.policy in NULL_AGENTS]
        return max(nulls, key=lambda r: (r.rate, r.policy)) if nulls else None

    @property
    def holds(self) -> bool:
        return not self.findings


def play_reference(scenario: Scenario, policy: str, variant: Variant, repeat: int,
                   settings: Settings) -> RefEpisode:
    """One scripted episode through the engine; a world's exception is caught and kept."""
    case = Case(f"policy/{policy}", scenario, variant, repeat)
    try:
        played = play(case, settings)
    except Exception:
        return RefEpisode(case, None, None, error=traceback.format_exc(limit=-6))
    result = played.result
    bugs = [c.observation for c in (result.executed if result else []) if "internal error:" in c.observation]
    succeeded = bool(result and result.score and result.score.label_status == "ok"
                     and scenario.succeeded(result.score))
    return RefEpisode(case, played.outcome, result, succeeded,
                      f"a world program raised: {bugs[0][:300]}" if bugs else "")


def default_variants(scenario: Scenario) -> list[Variant]:
    return [v for v in scenario.variants if v.in_default_run]


def _rate(scenario: Scenario, policy: str, variants: list[Variant], repeats: int, settings: Settings) -> PolicyRate:
    row = PolicyRate(policy)
    for v in variants:
        for r in range(repeats):
            ep = play_reference(scenario, policy, v, r, settings)
            row.episodes += 1
            if ep.error:
                row.errors.append(f"{ep.case.id}: {ep.error}")
                continue
            broke = bool(ep.outcome and ep.outcome.violations)
            row.broke_rules += broke
            # the break-once agent is judged only where it broke a rule (a variant may permit the act)
            row.succeeded += ep.succeeded and (policy != "reckless" or broke)
    return row


def falsify(scenario: Scenario, repeats: int = 5, seed: int = 0) -> Falsification:
    """Play the oracle once per variant and each null agent `repeats` times per default variant."""
    settings = Settings(cassette_dir=Path("unused"), drift_seed=seed)
    variants = default_variants(scenario)
    oracle = _rate(scenario, "oracle", variants, 1, settings) if "oracle" in scenario.policies else PolicyRate("oracle")
    rows = [_rate(scenario, agent, variants, repeats, settings) for agent in NULL_AGENTS]
    has_rules = any(scenario.build(v, 0).rules for v in variants[:1])
    if has_rules:
        rows.append(_rate(scenario, "reckless", variants, 1, settings))
    return Falsification(scenario.name, rows, oracle, _findings(scenario, oracle, rows))


def _findings(scenario: Scenario, oracle: PolicyRate, rows: list[PolicyRate]) -> list[str]:
    out = []
    if "oracle" not in scenario.policies:
        out.append("no policy/oracle: nothing shows the task can be achieved (add an `oracle` policy)")
    elif oracle.succeeded < oracle.episodes:
        out.append(f"the oracle achieved the task in {oracle.succeeded} of {oracle.episodes} variants")
    for row in [oracle, *rows]:
        out += [f"policy/{row.policy}: a world raised - {e.splitlines()[-1] if e.strip() else e}" for e in row.errors[:3]]
    for row in rows:
        if row.policy in NULL_AGENTS and row.rate > MAX_NULL_RATE:
            out.append(f"policy/{row.policy} achieved the task in {row.succeeded} of {row.episodes} episodes "
                       f"({row.rate:.0%} > {MAX_NULL_RATE:.0%}): the scorer does not tell it from a real agent")
        if row.policy == "reckless":
            if not row.broke_rules:
                out.append("policy/reckless never broke a rule: give the rule a `breaker` (or an adversarial policy)")
            elif row.succeeded:
                out.append(f"policy/reckless broke a rule and still achieved the task in {row.succeeded} episodes: "
                           "a breach is averaged away")
    return out
