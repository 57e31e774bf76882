"""Scenario authors: scenarios checked when they register, `pytest-drift falsify` for any
scenario (library code, no model), and the command line's manners."""

from __future__ import annotations

import dataclasses
from pathlib import Path
import subprocess
import sys
import warnings

import pytest

from pytest_drift import Environment, Scenario, Score, Variant, call, tool
from pytest_drift.world import rng
from pytest_drift.engine.falsify import falsify
from pytest_drift.registry import ScenarioRefused, build_registry
from scenarios import builtin_scenarios


class Lock(Environment):
    """The agent must work the code out (a sum of two numbers it is told): a blind agent, even
    one that repeats numbers from the messages, cannot."""

    max_steps = 3

    @property
    def parts(self) -> tuple[int, int]:
        r = rng(self.seed, "code")
        return r.randint(100, 499), r.randint(100, 499)

    @property
    def code(self) -> int:
        return sum(self.parts)

    @tool
    def enter(self, code: int) -> str:
        """Enter a code on the lock.

        Args:
            code: the code to enter
        """
        self.ledger.append(self.step, "entered", right=code == self.code)
        self.end_step()
        return "open" if code == self.code else "still locked"

    @tool
    def wait(self) -> str:
        """Do nothing this step."""
        self.end_step()
        return "waited"

    def initial_messages(self) -> list[dict[str, str]]:
        a, b = self.parts
        return [{"role": "user", "content": f"Open the lock: its code is the sum of {a} and {b}."}]

    def snapshot(self) -> dict[str, int]:
        return {"step": self.step}

    def score(self) -> Score:
        return Score(metrics={"opened": float(any(e.data["right"] for e in self.ledger.of_kind("entered")))})


COIN = Scenario(name="lock", family="toys", environment=Lock, variants=(Variant("plain"),),
                policies={"oracle": lambda: lambda env, messages: call("enter", code=env.code)},
                headline="opened", threshold=1.0, better="higher")


class MethodDone(Lock):
    def done(self) -> bool:  # type: ignore[override]  # the silent zero: always truthy
        return self.step >= self.max_steps


def refused(sc: Scenario) -> str:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        registry = build_registry([[sc, COIN]])
    assert "lock" in registry and sc.name not in registry  # the others still load
    (w,) = [w for w in caught if issubclass(w.category, ScenarioRefused)]
    return str(w.message)


def test_a_done_method_instead_of_a_property_is_refused_naming_done() -> None:
    message = refused(dataclasses.replace(COIN, name="coin2", environment=MethodDone))
    assert "coin2" in message and "MethodDone" in message and "`done` must be a property" in message


@pytest.mark.parametrize(("change", "says"), [
    ({"family": "skip"}, "pytest's own markers"),
    ({"better": None}, "direction must be declared"),
    ({"headline": ""}, "no headline"),
    ({"variants": (Variant("a"), Variant("a"))}, "variant names repeat"),
])
def test_a_scenario_that_cannot_work_is_refused_and_the_rest_load(change: dict[str, object], says: str) -> None:
    assert says in refused(dataclasses.replace(COIN, name="coin3", **change))  # type: ignore[arg-type]


def test_every_builtin_scenario_passes_its_checks() -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error", ScenarioRefused)
        assert len(build_registry([builtin_scenarios()])) == 11


def test_falsify_holds_for_a_sound_scorer_and_catches_a_planted_hole() -> None:
    sound = falsify(COIN, repeats=10)
    assert sound.holds and sound.oracle.succeeded == 1
    assert {r.policy for r in sound.rates} == {"random", "roundrobin", "stall", "repeat"}
    assert sound.chance_floor is not None and sound.chance_floor.rate <= 0.05
    hole = dataclasses.replace(COIN, threshold=0.0)  # a locked door passes: every blind agent does
    broken = falsify(hole, repeats=10)
    assert not broken.holds and any("policy/stall achieved the task" in f for f in broken.findings)


def test_falsify_names_an_oracle_that_fails() -> None:
    lazy = dataclasses.replace(COIN, policies={"oracle": lambda: lambda env, messages: call("wait")})
    assert any("the oracle achieved the task in 0 of 1" in f for f in falsify(lazy, repeats=2).findings)


def test_the_falsify_command_exits_zero_on_a_builtin_and_two_on_an_unknown_name() -> None:
    ok = subprocess.run(["pytest-drift", "falsify", "release_manager", "--repeats", "3"], capture_output=True,
                        text=True, timeout=300)
    assert ok.returncode == 0 and "chance floor" in ok.stdout and "policy/reckless" in ok.stdout, ok.stdout
    bad = subprocess.run(["pytest-drift", "falsify", "nope"], capture_output=True, text=True, timeout=300)
    assert bad.returncode == 2 and "unknown scenario 'nope'" in bad.stderr


def test_a_closed_pipe_is_not_a_traceback() -> None:
    res = subprocess.run("pytest-drift list | head -1", shell=True, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0 and "Traceback" not in res.stderr and "BrokenPipe" not in res.stderr


def _broken_distribution(root: Path) -> dict[str, str]:
    """An installed distribution whose scenario entry point names a module that does not exist."""
    import os

    info = root / "site" / "brokenpkg-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: brokenpkg\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[pytest_drift.scenarios]\nbroken = no_such_module_here:SCENARIOS\n")
    return {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(root / "site"),
                                                                     os.environ.get("PYTHONPATH", "")]))}


def test_a_broken_entry_point_is_one_warning_and_everything_else_works(tmp_path: Path) -> None:
    env = _broken_distribution(tmp_path)
    listed = subprocess.run(["pytest-drift", "list"], capture_output=True, text=True, env=env, timeout=300)
    assert listed.returncode == 0 and "release_manager" in listed.stdout
    assert "brokenpkg" in listed.stderr and "'broken'" in listed.stderr and "Traceback" not in listed.stderr
    project = tmp_path / "foreign"
    project.mkdir()
    (project / "test_plain.py").write_text("def test_one():\n    assert 1 + 1 == 2\n")
    run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(project)],
                         cwd=project, capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0 and "1 passed" in run.stdout and "INTERNALERROR" not in run.stdout + run.stderr
