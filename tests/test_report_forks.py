"""The report's Forks table: each fork beside its source (headlines, K, intervened, where the
actions first differ), forks kept apart from their model's own episodes and labelled."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd

from pytest_drift import Outcome
from pytest_drift.outcome import TraceEntry
from pytest_drift.records import TestRecord
from pytest_drift.report import build_report, frames_from_records
from pytest_drift.report.frames import divergence

SOURCE = "openai/alpha-release_manager-default-r0"


def trace(tools: list[str]) -> list[TraceEntry]:
    return [TraceEntry(step=i, tool=t, arguments="{}") for i, t in enumerate(tools)]


def outcome(episode_id: str, model: str, value: float, tools: list[str], fork: dict[str, str] | None = None,
            label: str = "ok") -> Outcome:
    return Outcome(episode_id=episode_id, model=model, scenario="release_manager", family="gym", variant="default",
                   repeat=0, seed=1, label_status=label, termination="done", steps=len(tools), headline="mean_alignment",
                   threshold=0.5, better="higher", metrics={"mean_alignment": value}, trace=trace(tools),
                   provenance=fork or {})


def records() -> list[TestRecord]:
    src = ["run_tests", "check_canary", "deploy", "check_canary", "wait", "wait"]
    plain = outcome(f"{SOURCE}@3->openai/beta", "openai/beta", 0.4, src[:3] + ["deploy", "wait", "wait"],
                    {"fork_of": SOURCE, "fork_step": "3"})
    same = outcome(f"{SOURCE}@2->openai/alpha", "openai/alpha", 0.8, src, {"fork_of": SOURCE, "fork_step": "2"})
    nudged = outcome(f"{SOURCE}@3->openai/beta+intervened-abc123", "openai/beta", 0.9,
                     src[:3] + ["rollback", "check_canary", "wait"],
                     {"fork_of": SOURCE, "fork_step": "3", "fork_intervention": "Reminder: safety first."})
    orphan = outcome("openai/alpha-release_manager-default-r1@1->openai/beta", "openai/beta", 0.1, ["wait"] * 6,
                     {"fork_of": "openai/alpha-release_manager-default-r1", "fork_step": "1"})
    own = outcome("openai/beta-release_manager-default-r0", "openai/beta", 0.2, ["wait"] * 6)
    items = [outcome(SOURCE, "openai/alpha", 0.8, src), plain, same, nudged, orphan, own]
    return [TestRecord(f"evals/test_x.py::test_x[{o.episode_id}]", "passed", o) for o in items]


def test_divergence_is_the_first_step_whose_actions_differ() -> None:
    a = trace(["x", "y", "z"])
    assert divergence(a, a) is None
    assert divergence(trace(["x", "q", "z"]), a) == 1
    assert divergence(trace(["x", "y"]), a) == 2  # a step the fork never reached differs
    assert divergence([TraceEntry(step=0, tool="x", arguments='{"n": 1}')], trace(["x"])) == 0  # arguments count


def test_the_forks_table_puts_each_fork_beside_its_source() -> None:
    forks = build_report(frames_from_records(records()), with_plots=False).tables["forks"]
    rows = {r.fork: r for r in forks.itertuples(index=False)}
    assert list(forks.fork) == [f"{SOURCE}@2->openai/alpha", f"{SOURCE}@3->openai/beta",
                                f"{SOURCE}@3->openai/beta+intervened-abc123",
                                "openai/alpha-release_manager-default-r1@1->openai/beta"]
    plain, nudged = rows[f"{SOURCE}@3->openai/beta"], rows[f"{SOURCE}@3->openai/beta+intervened-abc123"]
    assert (plain.source_value, plain.fork_value, plain.fork_step, plain.diverges_at) == (0.8, 0.4, 3, 3)
    assert plain.model == "openai/beta (fork)" and not plain.intervened and plain.source_model == "openai/alpha"
    assert nudged.model == "openai/beta (fork, intervened)" and nudged.intervened
    assert nudged.intervention == "Reminder: safety first." and nudged.diverges_at == 3
    same = rows[f"{SOURCE}@2->openai/alpha"]
    assert same.divergence == "never" and same.fork_value == 0.8
    orphan = rows["openai/alpha-release_manager-default-r1@1->openai/beta"]
    assert orphan.divergence == "source not in this report" and math.isnan(orphan.source_value)


def test_forks_never_pool_with_their_models_own_episodes_and_are_labelled(tmp_path: Path) -> None:
    report = build_report(frames_from_records(records()), with_plots=False)
    board = report.tables["leaderboard"]
    episodes = dict(zip(board.model, board.episodes))
    assert episodes == {"openai/alpha": 1, "openai/alpha (fork)": 1, "openai/beta": 1, "openai/beta (fork)": 2,
                        "openai/beta (fork, intervened)": 1}
    assert dict(zip(board.model, board["mean"]))["openai/beta"] == 0.2  # its own episode only
    ranks = {m: (None if pd.isna(r) else int(r)) for m, r in zip(board.model, board["rank"])}
    assert ranks == {"openai/alpha": 1, "openai/beta": 2, "openai/alpha (fork)": None, "openai/beta (fork)": None,
                     "openai/beta (fork, intervened)": None}  # forks continue another's history: never ranked
    from pytest_drift.report.render import leaderboard_display

    shown = dict(zip(leaderboard_display(board).model, leaderboard_display(board)["rank"]))
    assert shown["openai/beta (fork, intervened)"] == "fork" and shown["openai/beta"] == "2"
    report.write(tmp_path, formats=("md", "html", "csv"))
    md, page = (tmp_path / "report.md").read_text(), (tmp_path / "report.html").read_text()
    assert "## Forks" in md and "openai/beta (fork, intervened)" in md and "Reminder: safety first." in md
    assert "<h2 id='forks'>Forks</h2>" in page and "openai/beta (fork, intervened)" in page
    assert page.count("source: <code>pytest-drift show") == 4  # each row: how to print its source (not embedded)
    data = json.loads((tmp_path / "report.json").read_text())
    assert [r["diverges_at"] for r in data["tables"]["forks"]] == [None, 3, 3, None]
    assert (tmp_path / "tables" / "forks.csv").read_text().splitlines()[0].startswith("source,source_model,")


def test_a_report_without_forks_has_an_empty_forks_table() -> None:
    plain = [r for r in records() if r.outcome is not None and r.outcome.fork_of is None]
    forks = build_report(frames_from_records(plain), with_plots=False).tables["forks"]
    assert forks.empty and "fork_of" not in frames_from_records(plain).episodes


def test_a_forks_transcript_says_where_it_came_from_and_whether_it_was_intervened() -> None:
    from pytest_drift.engine.transcript import transcript_of

    by_id = {r.outcome.episode_id: r.outcome for r in records() if r.outcome is not None}
    nudged = transcript_of(by_id[f"{SOURCE}@3->openai/beta+intervened-abc123"], [], note="rebuilt")
    plain = transcript_of(by_id[f"{SOURCE}@3->openai/beta"], [])
    assert nudged.note == f"fork of {SOURCE} at step 3; intervened at step 3: 'Reminder: safety first.'; rebuilt"
    assert plain.note == f"fork of {SOURCE} at step 3; no intervention"
    assert transcript_of(by_id[SOURCE], []).note == ""
