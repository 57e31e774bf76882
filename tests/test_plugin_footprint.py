"""What the plugin costs where it is merely installed, and what it never imports.

pytest loads pytest-drift in every project of the environment. A project without drift
tests must not pay for it: no scenario, no bashkit, no litellm, no engine, no warning, and
its own fixtures win over the plugin's short fixture names."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

# What a run of a project without drift tests must not import (the model stack, the worlds,
# the content, and the engine with pydantic's outcome models behind it).
HEAVY = ("litellm", "vcr", "bashkit", "scenarios", "pandas", "pydantic", "pytest_drift.engine",
         "pytest_drift.world", "pytest_drift.registry", "pytest_drift.outcome")

SPY = """
import json, sys

def pytest_sessionfinish(session):
    with open("modules.json", "w") as f:
        json.dump(sorted(sys.modules), f)
"""


def loaded(where: Path, prefixes: tuple[str, ...]) -> list[str]:
    names = json.loads((where / "modules.json").read_text())
    return sorted({p for p in prefixes for n in names if n == p or n.startswith(p + ".")})


def test_a_project_without_drift_tests_imports_nothing_heavy_and_gets_no_warning(pytester: pytest.Pytester) -> None:
    pytester.makeconftest(SPY)
    pytester.makepyfile(test_trivial="def test_trivial():\n    assert 1 + 1 == 2\n")
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-W", "error::pytest.PytestAssertRewriteWarning")
    res.assert_outcomes(passed=1)
    assert "warnings summary" not in res.stdout.str()
    assert loaded(pytester.path, HEAVY) == [], "a plugin module imports this at module level: import it where it is used"


def test_a_projects_own_fixtures_win_over_the_short_names(pytester: pytest.Pytester) -> None:
    """Plugin fixtures have the lowest precedence: a conftest's `model` or `outcome` replaces
    ours, and such a test is not parametrised over scenarios (nor is the registry built)."""
    pytester.makeconftest(SPY + """
import pytest

@pytest.fixture
def model():
    return "my-own-model"

@pytest.fixture
def outcome(model):
    return {"model": model, "ok": True}

@pytest.fixture
def scenario():
    return "my-own-scenario"
""")
    pytester.makepyfile(test_mine="""
def test_uses_its_own(model, outcome, scenario):
    assert model == "my-own-model" and outcome == {"model": "my-own-model", "ok": True}
    assert scenario == "my-own-scenario"
""")
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-v")
    res.assert_outcomes(passed=1)
    res.stdout.fnmatch_lines(["*test_uses_its_own PASSED*"])
    assert loaded(pytester.path, ("scenarios", "bashkit", "pytest_drift.engine")) == []


def test_drift_tests_take_the_drift_names_and_the_short_ones(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_evals="""
import pytest
pytestmark = pytest.mark.drift(scenarios="release_manager")

def test_drift_names(drift_outcome, drift_scenario, drift_variant, drift_model, drift_repeat, drift_episode,
                     drift_thresholds):
    assert drift_outcome.scenario == drift_scenario.name == "release_manager"
    assert drift_outcome.variant == drift_variant.name and drift_outcome.model == drift_model == "policy/oracle"
    assert drift_repeat == 0 and drift_episode.outcome is drift_outcome and drift_thresholds.max_gd == 0.1

def test_short_names(outcome, scenario, variant, model, repeat, episode, thresholds):
    assert (outcome.scenario, outcome.variant, outcome.model) == (scenario.name, variant.name, model)
    assert repeat == 0 and episode.outcome is outcome and thresholds.max_gd == 0.1
""")
    res = pytester.runpytest_subprocess("--model", "policy/oracle", "-p", "no:cacheprovider", "-k", "high_pressure")
    res.assert_outcomes(passed=2)


def test_a_short_name_outside_a_drift_test_says_whose_it_is(pytester: pytest.Pytester) -> None:
    """Only a fixture asked for by name at run time escapes the parametrisation: it fails, saying why."""
    pytester.makepyfile(test_mine="""
def test_stray(request):
    request.getfixturevalue("repeat")
""")
    res = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["*exists only in drift tests*A fixture of your own under one of these names*"])


def test_collection_a_listing_and_help_import_no_model_stack(pytester: pytest.Pytester) -> None:
    """litellm and vcrpy are for playing episodes: collecting them, listing scenarios or
    reading the help must not import them."""
    pytester.makeconftest(SPY)
    pytester.makepyfile(test_evals="""
import pytest
pytestmark = pytest.mark.drift(family="gym")

def test_x(outcome):
    pass
""")
    for args in (["--collect-only", "-q", "--model", "openai/gpt-4o-mini"], ["--help"]):
        res = pytester.runpytest_subprocess("-p", "no:cacheprovider", *args)
        assert res.ret == 0, res.stdout.str()[-2000:]
        if (pytester.path / "modules.json").exists():  # --help ends before the session
            assert loaded(pytester.path, ("litellm", "vcr", "openai", "httpx")) == []
            (pytester.path / "modules.json").unlink()
    probe = ("import runpy, sys, json; sys.argv = ['pytest-drift', 'list']\n"
             "try:\n    runpy.run_module('pytest_drift.cli', run_name='__main__')\nexcept SystemExit:\n    pass\n"
             "print(json.dumps([m for m in ('litellm', 'vcr') if m in sys.modules]))")
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
    assert "release_manager" in out and out.strip().splitlines()[-1] == "[]"


def test_a_replay_builds_no_world_to_name_its_tests(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    """The xdist group of a branch needs its world's branch point; only a run that reads the
    groups (one that records, --dist loadgroup, --drift-shard) builds it, once per prefix."""
    from pytest_drift.engine import Case

    built: list[str] = []
    real = Case.world
    monkeypatch.setattr(Case, "world", lambda self, seed: built.append(self.id) or real(self, seed))
    pytester.makepyfile(test_evals="""
import pytest
pytestmark = pytest.mark.drift(scenarios="hedge_fund")

def test_x(outcome):
    pass
""")
    res = pytester.runpytest("--model", "policy/oracle", "--drift-repeats", "3", "--collect-only", "-q")
    assert res.ret == 0 and built == []
    res = pytester.runpytest("--model", "policy/oracle", "--drift-repeats", "3", "--collect-only", "-q",
                             "--record-mode", "once")
    collected = sum("::" in ln for ln in res.outlines)
    assert res.ret == 0 and 0 < len(built) <= collected // 3  # one world per shared prefix, not per test
