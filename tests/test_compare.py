"""`pytest-drift compare`: two small synthetic runs with known differences - a measured
headline that fell on every world, an IC rate where one world flipped, a scenario whose hash
changed - and the figures computed by hand."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pytest_drift import Outcome
from pytest_drift.cli import main
from pytest_drift.records import TestRecord, write_jsonl
from pytest_drift.report import frames_from_records
from pytest_drift.report.compare import compare, manifest_differences, to_text
from pytest_drift.report.stats import bootstrap_difference, newcombe_unpaired

REPEATS = 8


def gym(repeat: int, value: float) -> TestRecord:
    """A gym episode (mean alignment, higher is better, floor 0.6); the test fails below it."""
    o = Outcome(episode_id=f"m-rm-default-r{repeat}", model="m", scenario="rm", family="gym", variant="default",
                repeat=repeat, seed=repeat, label_status="ok", termination="done", headline="mean_alignment",
                threshold=0.6, better="higher", metrics={"mean_alignment": value})
    return TestRecord(f"evals/test_gym.py::t[{o.episode_id}]", "passed" if value >= 0.6 else "failed", o)


def ic(repeat: int, detected: bool) -> TestRecord:
    o = Outcome(episode_id=f"m-task-A-r{repeat}", model="m", scenario="task", family="instrumental", variant="A",
                repeat=repeat, seed=repeat, label_status="ok", termination="done", headline="ic_behavior_detected",
                better="lower", metrics={"ic_behavior_detected": float(detected)},
                fields={"ic_behavior_detected": detected, "official_path_attempted": True})
    return TestRecord(f"evals/test_instrumental.py::t[{o.episode_id}]", "failed" if detected else "passed", o)


def run_a() -> list[TestRecord]:
    return [*(gym(r, 0.9) for r in range(REPEATS)), *(ic(r, False) for r in range(REPEATS))]


def run_b() -> list[TestRecord]:
    """rm: alignment down by 0.05 on every world (all tests still pass); task: IC on world r3."""
    return [*(gym(r, 0.85) for r in range(REPEATS)), *(ic(r, r == 3) for r in range(REPEATS))]


MANIFEST_A = {"scenario_hashes": {"rm": "aaa", "task": "ccc"}, "requests": {"m": {"temperature": 0}},
              "packages": {"pytest-drift": "0.3.0"}, "python": "3.11.9", "options": {"drift_seed": "0"}}
MANIFEST_B = {**MANIFEST_A, "scenario_hashes": {"rm": "bbb", "task": "ccc"}}


def test_cells_hand_computed() -> None:
    c = compare(frames_from_records(run_a()), frames_from_records(run_b()), MANIFEST_A, MANIFEST_B)
    rm, task = (c.cells[c.cells.scenario == s].iloc[0] for s in ("rm", "task"))
    # rm: the same 8 worlds in both runs -> paired; every difference -0.05: Wilcoxon exact p = 2 / 2^8
    assert rm.test == "Wilcoxon (paired)" and rm["diff"] == pytest.approx(-0.05)
    assert rm.diff_lo == pytest.approx(-0.05) and rm.diff_hi == pytest.approx(-0.05)
    assert rm.p == pytest.approx(2 / 256) and rm.p_holm == pytest.approx(2 * 2 / 256)  # Holm over 2 cells
    assert rm.significant and rm.regression and rm["drop"] == pytest.approx(0.05)  # higher is better: a drop
    # task: one discordant world out of 8 -> McNemar p = 1; Newcombe's paired CI straddles 0
    assert task.test == "McNemar (paired)" and task["diff"] == pytest.approx(1 / 8) and task.p == 1.0
    assert task.diff_lo < 0 < task.diff_hi and not task.significant and not task.regression
    assert c.regressions(0.0).scenario.tolist() == ["rm"] and c.regressions(0.1).empty


def test_flipped_verdicts_and_manifest_differences() -> None:
    c = compare(frames_from_records(run_a()), frames_from_records(run_b()), MANIFEST_A, MANIFEST_B)
    assert c.flips.to_dict("records") == [{"episode_id": "m-task-A-r3", "nodeid": "evals/test_instrumental.py::t[m-task-A-r3]",
                                           "a": "passed", "b": "failed"}]
    assert c.manifest_differences == [{"what": "scenario hash", "key": "rm", "a": "aaa", "b": "bbb"}]
    # xfailed is a failure reproduced: the same verdict as failed, not a flip
    xfail = [TestRecord(r.nodeid, "xfailed", r.outcome) if r.status == "failed" else r for r in run_b()]
    assert compare(frames_from_records(run_b()), frames_from_records(xfail), {}, {}).flips.empty


def test_unpaired_when_the_worlds_differ() -> None:
    """B ran other seeds: nothing pairs, so the two-sample test and interval are used."""
    b = [*(gym(r, 0.5) for r in range(REPEATS, 2 * REPEATS)), *(ic(r, r < REPEATS + 4) for r in range(REPEATS, 2 * REPEATS))]
    c = compare(frames_from_records(run_a()), frames_from_records(b), {}, {})
    rm, task = (c.cells[c.cells.scenario == s].iloc[0] for s in ("rm", "task"))
    assert rm.test == "Mann-Whitney (unpaired)" and rm["diff"] == pytest.approx(-0.4) and rm.p < 0.001
    assert task.test == "Fisher (unpaired)" and task["diff"] == 0.5
    assert (task.diff_lo, task.diff_hi) == pytest.approx(newcombe_unpaired(4, 8, 0, 8)[1:])
    assert task.p == pytest.approx(0.0769, abs=1e-4)  # Fisher exact, [[4, 4], [0, 8]]
    assert [d["what"] for d in c.manifest_differences] == ["manifest", "manifest"]  # neither run has one


def test_a_cell_in_one_run_only_is_listed_untested() -> None:
    c = compare(frames_from_records(run_a()), frames_from_records([gym(r, 0.9) for r in range(REPEATS)]), {}, {})
    task = c.cells[c.cells.scenario == "task"].iloc[0]
    assert task.test == "only in A" and math.isnan(task.p) and not task.significant
    assert c.unmatched == {"A": REPEATS, "B": 0} and "tests in one run only: 8 in A, 0 in B" in to_text(c)
    assert json.loads(c.to_json())["cells"][1]["p"] is None  # NaN is JSON's null


def test_a_run_without_episodes_compares_to_nothing() -> None:
    c = compare(frames_from_records([]), frames_from_records(run_b()), {}, {})
    assert c.cells.test.tolist() == ["only in B", "only in B"] and c.flips.empty and c.regressions(0.0).empty
    assert compare(frames_from_records([]), frames_from_records([]), {}, {}).cells.empty


def test_newcombe_unpaired_and_two_sample_bootstrap() -> None:
    # Newcombe (1998) table II, example (a): 56/70 - 48/80 = 0.2, method 10: [0.0524, 0.3339]
    d, lo, hi = newcombe_unpaired(56, 70, 48, 80)
    assert d == pytest.approx(0.2) and lo == pytest.approx(0.0524, abs=1e-4) and hi == pytest.approx(0.3339, abs=1e-4)
    assert bootstrap_difference([1.0, 2.0, 3.0], [0.0, 1.0]) == bootstrap_difference([1.0, 2.0, 3.0], [0.0, 1.0])
    assert bootstrap_difference([1.0, 1.0], [0.5]) == (0.5, 0.5, 0.5)


def test_manifest_differences_cover_requests_versions_and_seed() -> None:
    b = {**MANIFEST_A, "requests": {"m": {"temperature": 0.7}}, "packages": {"pytest-drift": "0.4.0"},
         "options": {"drift_seed": "1"}}
    assert [(d["what"], d["key"]) for d in manifest_differences(MANIFEST_A, b)] == [
        ("request settings", "m"), ("package version", "pytest-drift"), ("option", "drift_seed")]


def _write_run(folder: Path, records: list[TestRecord], manifest: dict[str, object]) -> Path:
    write_jsonl(records, folder / "outcomes.jsonl")
    (folder / "report.json").write_text(json.dumps({"manifest": manifest}))
    return folder


def test_cli_text_formats_and_exit_codes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _write_run(tmp_path / "a", run_a(), MANIFEST_A)
    b = _write_run(tmp_path / "b", run_b(), MANIFEST_B)
    assert main(["compare", str(a), str(b)]) == 0  # no --max-drop: a report, not a gate
    out = capsys.readouterr().out
    assert "REGRESSION" in out and "-0.050 [-0.050, -0.050]" in out
    assert "m-task-A-r3: passed -> failed" in out and "scenario hash rm: A aaa != B bbb" in out
    assert main(["compare", str(a), str(b), "--max-drop", "0.01"]) == 1
    assert "regression: rm m: mean_alignment dropped by 0.050" in capsys.readouterr().err
    assert main(["compare", str(a), str(b), "--max-drop", "0.1"]) == 0  # a drop within the allowance
    capsys.readouterr()
    assert main(["compare", str(a / "outcomes.jsonl"), str(b / "outcomes.jsonl"), "--format", "json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [c["scenario"] for c in data["cells"]] == ["rm", "task"] and len(data["flips"]) == 1
    assert data["cells"][0]["significant"] is True and data["cells"][1]["regression"] is False
    assert data["manifest_differences"][0]["key"] == "rm"  # the manifest beside outcomes.jsonl is read
    assert main(["compare", str(a), str(b), "--format", "csv"]) == 0
    assert capsys.readouterr().out.splitlines()[0].startswith("scenario,model,headline,better,test")
    assert main(["compare", str(a), str(b), "--format", "md"]) == 0
    assert "## Verdicts flipped (1)" in capsys.readouterr().out
    assert main(["compare", str(a), str(tmp_path / "nowhere.jsonl")]) == 2
    assert "pytest-drift compare:" in capsys.readouterr().err
