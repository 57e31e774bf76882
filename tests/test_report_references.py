"""The reference agents a report is read against: played in process on the run's own worlds."""

from __future__ import annotations

from pathlib import Path

from pytest_drift import Outcome
from pytest_drift.engine.references import (BackgroundReferences, ReferencePlayer, from_workers, play_references,
                                            reference_settings)
from pytest_drift.registry import load_scenarios
from pytest_drift.world import episode_seed

REGISTRY = load_scenarios()


def run_outcome(model: str, scenario: str, variant: str, repeat: int = 0, drift_seed: int = 0) -> Outcome:
    """An outcome as the run wrote it: only its world (scenario, variant, repeat, seed) matters here."""
    return Outcome(episode_id=f"{model}-{scenario}-{variant}-r{repeat}", model=model, scenario=scenario,
                   family="gym", variant=variant, repeat=repeat, seed=episode_seed(scenario, variant, repeat, drift_seed),
                   label_status="ok", termination="done", headline="mean_alignment", metrics={"mean_alignment": 0.2})


def test_each_world_gets_the_three_references_once() -> None:
    outcomes = [run_outcome("m", "release_manager", "default"), run_outcome("n", "release_manager", "default"),
                run_outcome("m", "release_manager", "high_pressure")]
    refs = play_references(outcomes, REGISTRY, reference_settings(Path("cassettes"), 0))
    got = {(o.model, o.variant): o for o in refs.outcomes}
    assert sorted(got) == [(f"policy/{p}", v) for p in ("oracle", "random", "reckless")
                           for v in ("default", "high_pressure")]
    oracle, reckless = got[("policy/oracle", "default")], got[("policy/reckless", "default")]
    assert oracle.seed == outcomes[0].seed and oracle.metrics["mean_alignment"] == 1.0  # the same world, done right
    assert reckless.violations and not oracle.violations  # the rule broken once
    assert not refs.skipped and refs.seconds > 0


def test_a_run_of_a_reference_policy_is_reused_not_replayed() -> None:
    own = run_outcome("policy/oracle", "release_manager", "default")
    refs = play_references([own], REGISTRY, reference_settings(Path("cassettes"), 0))
    assert any(o is own for o in refs.outcomes)


def test_what_cannot_be_played_is_counted_by_reason() -> None:
    outcomes = [run_outcome("m", "no_such_scenario", "default"), run_outcome("m", "release_manager", "no_such"),
                run_outcome("m", "release_manager", "default", drift_seed=7)]  # another --drift-seed than 0
    refs = play_references(outcomes, REGISTRY, reference_settings(Path("cassettes"), 0))
    assert not refs.outcomes
    assert dict(refs.skipped) == {"episodes of scenarios not installed here": 3,
                                  "episodes of variants not known here (a --drift-param or --drift-config of the "
                                  "run?)": 3, "episodes whose seed is not the one --drift-seed 0 gives": 3}
    assert "not played: 3 episodes of scenarios" in refs.summary()
    again = play_references(outcomes[2:], REGISTRY, reference_settings(Path("cassettes"), 7))
    assert len(again.outcomes) == 3  # at the run's own seed they play


def test_played_beside_the_run_the_same_as_at_its_end() -> None:
    outcomes = [run_outcome("m", "release_manager", v) for v in ("default", "noisy_signals")]
    background = BackgroundReferences(ReferencePlayer(REGISTRY, reference_settings(Path("cassettes"), 0)))
    for o in outcomes:
        background.add(o)
    beside = background.finish(outcomes)
    at_end = play_references(outcomes, REGISTRY, reference_settings(Path("cassettes"), 0))
    assert [o.to_json() for o in beside.outcomes] == [o.to_json() for o in at_end.outcomes]
    assert beside.waited is not None and "end waited" in beside.summary()


def test_the_workers_references_merge_once_and_what_none_covered_is_played_here() -> None:
    """Two xdist workers saw one world each, and both saw `default` (both played it): one copy
    each is kept; `noisy_signals`, whose worker crashed before its end, is played here."""
    import json

    worlds = [run_outcome("m", "release_manager", v) for v in ("default", "hidden_panels", "noisy_signals")]
    settings = reference_settings(Path("cassettes"), 0)

    def worker(*seen: Outcome) -> str:
        refs = play_references(seen, REGISTRY, settings)
        return json.dumps({"outcomes": [o.to_json() for o in refs.outcomes], "skipped": {}, "seconds": 1.0})

    refs = from_workers([worker(worlds[0]), worker(worlds[0], worlds[1])], worlds, ReferencePlayer(REGISTRY, settings))
    keys = sorted((o.model, o.variant) for o in refs.outcomes)
    assert keys == sorted((f"policy/{p}", w.variant) for p in ("oracle", "random", "reckless") for w in worlds)
    assert refs.seconds > 2.0 and "in the xdist workers" in refs.summary()
