"""The report rendered from junit XML is the session's own: node ids, failure evidence,
manifest, transcripts' errors, reference rows - compared field by field on a real replay."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from pytest_drift.cli import main
from pytest_drift.report.junit import dotted_nodeid, merge_manifests

REPO = Path(__file__).parents[1]
SELECTION = "release_manager or (hedge_fund and env_vs_profit)"  # SmolLM2's recorded failures, both families


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The shipped SmolLM2 cassettes replayed under xdist (the workers play the references) with
    a report and junit, then the report made from junit (references played here)."""
    tmp = tmp_path_factory.mktemp("parity")
    done = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "evals"), "-q", "-p", "no:cacheprovider",
                           "-n", "2", "-k", SELECTION, "-o", "junit_family=legacy", "--junitxml", str(tmp / "j.xml"),
                           "--drift-report", str(tmp / "session")], cwd=REPO, capture_output=True, text=True)
    assert "xfailed" in done.stdout, done.stdout[-3000:] + done.stderr[-3000:]
    assert "played in" in done.stdout and "in the xdist workers" in done.stdout, done.stdout[-3000:]
    assert main(["report", str(tmp / "j.xml"), "-o", str(tmp / "junit"), "--root", str(REPO)]) == 0
    return tmp


def report(run: Path, name: str) -> dict[str, Any]:
    return json.loads((run / name / "report.json").read_text())


@pytest.mark.slow
def test_the_junit_report_equals_the_sessions_field_by_field(run: Path) -> None:
    session, junit = report(run, "session"), report(run, "junit")
    for key in ("leaderboard", "readings", "failures"):
        assert junit[key] == session[key], key
    for name, rows in session["tables"].items():
        assert junit["tables"][name] == rows, name
    rendered_by = junit["manifest"].pop("rendered_by")
    assert rendered_by.startswith("pytest-drift report ") and junit["manifest"] == session["manifest"]
    options = session["manifest"]["options"]
    assert len(options) >= 23 and options["keyword"] == SELECTION  # the run's options, not "inputs"


def test_failures_keep_node_ids_and_evidence(run: Path) -> None:
    failures = report(run, "junit")["failures"]
    assert failures and all(f["nodeid"].startswith("evals/test_") and ".py::test_" in f["nodeid"] for f in failures)
    held = [f for f in failures if "test_goal_held" in f["nodeid"] or "test_holds_alignment" in f["nodeid"]]
    assert held and all(f["status"] == "xfailed" for f in held)
    assert not any(f["message"].startswith("recorded verdict") for f in held)  # the failure's own words
    assert any("mean alignment 0.00 < 0.6" in f["message"] for f in held)


def test_transcripts_rebuilt_from_cassettes_keep_the_episodes_error(run: Path) -> None:
    def errors(name: str) -> dict[str, str]:
        lines = (run / name / "transcripts.jsonl").read_text().splitlines()
        return {(t := json.loads(line))["episode_id"]: t.get("error", "") for line in lines}

    session, junit = errors("session"), errors("junit")
    assert session == junit and sum(bool(e) for e in junit.values()) == 3  # hedge_fund: the context ran out
    assert all("ContextWindowExceeded" in e for e in junit.values() if e)


def test_reference_rows_normalized_and_a_model_that_never_acts_below_the_oracle(run: Path) -> None:
    board = report(run, "session")["leaderboard"]
    for family in ("gym", "goal_drift"):
        rows = [r for r in board if r["family"] == family]
        models = [r["model"] for r in rows]
        assert {"policy/oracle", "policy/random", "policy/reckless"} <= set(models), family
        assert all(r["reference"] == r["model"].startswith("policy/") for r in rows)
        assert all(r["rank"] is None for r in rows if r["reference"])
        assert models.index("local/smollm2-135m") > models.index("policy/oracle"), family
    assert all("normalized" in r and "engaged" in r for r in board)
    smol = next(r for r in board if r["family"] == "goal_drift" and not r["reference"])
    assert smol["engaged"] == 0.0 and smol["normalized"] == 0.0  # never traded: blind play's level, not the oracle's


def test_every_table_as_csv_and_latex_beside_the_report(run: Path) -> None:
    folder = run / "session"
    for name, rows in report(run, "session")["tables"].items():
        with (folder / "tables" / f"{name}.csv").open() as fh:
            assert len(list(csv.DictReader(fh))) == len(rows), name
        assert "\\toprule" in (folder / "tables" / f"{name}.tex").read_text(), name


def test_export_and_report_options(run: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["export", str(run / "session"), "--format", "latex", "-o", str(run / "paper")]) == 0
    assert (run / "paper" / "tables" / "leaderboard.tex").read_text().count("\\toprule") == 1
    assert not list((run / "paper" / "tables").glob("*.csv"))
    assert main(["export", str(run / "session"), "--format", "csv", "-o", str(run / "paper")]) == 0
    assert (run / "paper" / "tables" / "summary.csv").is_file()
    assert main(["report", str(run / "j.xml"), "-o", str(run / "bare"), "--no-references", "--format", "md",
                 "--no-plots"]) == 0
    assert "references:" not in capsys.readouterr().out
    bare = json.loads((run / "bare" / "report.json").read_text())
    assert not any(r["reference"] for r in bare["leaderboard"]) and (run / "bare" / "report.md").is_file()
    assert not (run / "bare" / "report.html").exists() and not (run / "bare" / "tables").exists()


def test_the_session_skips_references_when_asked(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "pytest", str(REPO / "evals"), "-q", "-p", "no:cacheprovider",
                           "-k", "release_manager and default", "--drift-no-references",
                           "--drift-report", str(tmp_path)], cwd=REPO, capture_output=True, text=True)
    assert "references:" not in done.stdout, done.stdout[-2000:]
    board = json.loads((tmp_path / "report.json").read_text())["leaderboard"]
    assert board and not any(r["reference"] for r in board)
    assert json.loads((tmp_path / "report.json").read_text())["manifest"]["options"]["drift_no_references"] == "True"


def test_junit_files_without_the_properties_still_read() -> None:
    assert dotted_nodeid("evals.test_gym", "test_x[a-b]") == "evals/test_gym.py::test_x[a-b]"
    assert dotted_nodeid("tests.sub.test_a.TestB", "test_c") == "tests/sub/test_a.py::TestB::test_c"


def test_shard_manifests_merge() -> None:
    a = {"models": ["m"], "options": {"drift_shard": "1/2", "drift_seed": "0"}, "cassette_hashes": {"x": "1"}}
    b = {"models": ["n"], "options": {"drift_shard": "2/2", "drift_seed": "0"}, "cassette_hashes": {"y": "2"}}
    merged = merge_manifests([a, b])
    assert merged["models"] == ["m", "n"] and merged["cassette_hashes"] == {"x": "1", "y": "2"}
    assert merged["options"] == {"drift_seed": "0", "drift_shard": ["1/2", "2/2"]}
