"""The leaderboard, the readings and the report's opening: hand-computed from known outcomes."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest

from pytest_drift import Outcome
from pytest_drift.outcome import Usage
from pytest_drift.records import TRANSCRIPTS, TestRecord, Transcript, TranscriptMessage
from pytest_drift.report import build_report, frames_from_records, summary_text
from pytest_drift.report.leaderboard import episode_index, failures, leaderboard, readings
from pytest_drift.report.stats import bootstrap_mean, wilson


def gym(model: str, variant: str, repeat: int, value: float, status: str = "passed", label: str = "ok",
        usage: Usage | None = None) -> TestRecord:
    o = Outcome(episode_id=f"{model}-rm-{variant}-r{repeat}", model=model, scenario="rm", family="gym",
                variant=variant, repeat=repeat, seed=repeat, label_status=label, termination="done",
                headline="mean_alignment", threshold=0.6, metrics={"mean_alignment": value} if label == "ok" else {},
                usage=usage)
    return TestRecord(f"evals/test_gym.py::t[{o.episode_id}]", status, o,
                      "" if status == "passed" else f"mean alignment {value} < 0.6\nmore lines")


def ic(model: str, task: str, repeat: int, shown: bool) -> TestRecord:
    o = Outcome(episode_id=f"{model}-{task}-A-r{repeat}", model=model, scenario=task, family="instrumental",
                variant="A", repeat=repeat, seed=repeat, label_status="ok", termination="agent_stopped",
                headline="ic_behavior_detected", metrics={"ic_behavior_detected": float(shown)})
    return TestRecord(f"evals/test_instrumental.py::t[{o.episode_id}]", "failed" if shown else "passed", o,
                      "shortcut taken" if shown else "")


def records() -> list[TestRecord]:
    u = lambda t, c, r=0: Usage(prompt_tokens=t - 10, completion_tokens=10, total_tokens=t, cost_usd=c,  # noqa: E731
                                reasoning_tokens=r)
    return [
        gym("good", "default", 0, 0.9, usage=u(1000, 0.01, 6)), gym("good", "default", 1, 0.8, usage=u(500, None)),
        gym("bad", "default", 0, 0.3, "failed"), gym("bad", "default", 1, 0.5, "xfailed"),
        gym("bad", "default", 2, 0.0, "error", label="unknown"),
        ic("good", "t1", 0, False), ic("good", "t2", 0, False), ic("good", "t1", 1, True),
        ic("bad", "t1", 0, True), ic("bad", "t2", 0, True),
    ]


def test_leaderboard_by_hand() -> None:
    board = leaderboard(frames_from_records(records()))
    rows = {(r.family, r.model): r for r in board.itertuples()}
    assert list(zip(board.family, board.model)) == [("gym", "good"), ("gym", "bad"),  # higher alignment first
                                                    ("instrumental", "good"), ("instrumental", "bad")]  # fewer IC first
    g = rows[("gym", "good")]
    assert (g.mean, g.lo, g.hi) == pytest.approx(bootstrap_mean([0.9, 0.8])) and g.better == "higher"
    assert (g.episodes, g.scored, g.passed, g.failed, g.errors) == (2, 2, 2, 0, 0)
    assert g.tokens == 1500 and math.isnan(g.cost_usd)  # one cost unknown: no partial sum shown as the total
    assert g.reasoning_tokens == 6  # a part of the tokens, summed apart
    b = rows[("gym", "bad")]
    assert (b.episodes, b.scored, b.passed, b.failed, b.errors) == (3, 2, 0, 2, 1)  # xfailed counts as failed
    assert math.isnan(b.tokens) and math.isnan(b.reasoning_tokens) and math.isnan(b.cost_usd)  # no usage: blank
    i = rows[("instrumental", "good")]
    assert (i.mean, i.lo, i.hi) == pytest.approx(wilson(1, 3)) and (i.scenarios, i.better) == (2, "lower")
    assert rows[("instrumental", "bad")].mean == 1.0


def test_readings_one_line_per_scenario() -> None:
    r = readings(frames_from_records(records())).set_index("scenario").reading
    assert list(r.index) == ["rm", "t1", "t2"]
    assert r["rm"].startswith("mean_alignment (higher is better): good 0.85 [")
    assert "bad 0.40 [" in r["rm"] and "2/2 below 0.6" in r["rm"]
    assert r["rm"].endswith("Tests: 2 passed, 2 failed, 1 errors; 1 of 5 episodes not scored.")
    assert r["t1"].startswith("ic_behavior_detected (lower is better): good 0.50 [") and "1/2 showed it" in r["t1"]


def test_failures_and_episode_index() -> None:
    fr = frames_from_records(records())
    f = failures(fr)
    assert list(f.nodeid) == sorted(f.nodeid) and len(f) == 6 and set(f.status) == {"failed", "xfailed", "error"}
    assert (f.message == "mean alignment 0.3 < 0.6").sum() == 1  # the first line only
    idx = episode_index(fr).set_index("episode_id")
    assert idx.loc["bad-rm-default-r2", "verdict"] == "error" and idx.loc["good-t1-A-r1", "verdict"] == "failed"


def test_every_report_opens_with_the_leaderboard_and_links_transcripts(tmp_path: Path) -> None:
    t = Transcript(episode_id="bad-rm-default-r0", model="bad", scenario="rm", evidence_steps=[1], messages=[
        TranscriptMessage(role="user", content="Ship it </script><script>alert(1)</script>"),
        TranscriptMessage(role="assistant", step=1, content="ok")])
    (tmp_path / TRANSCRIPTS).write_text(t.to_json() + "\n")
    build_report(frames_from_records(records()), {"git_commit": "abc", "models": ["bad", "good"]},
                 with_plots=False).write(tmp_path)
    md = (tmp_path / "report.md").read_text()
    assert md.split("\n## ")[1].startswith("Leaderboard") and "| good | gym | mean_alignment (higher is better) |" in md
    assert "- **rm** (gym): mean_alignment" in md and f"pytest-drift show 'bad-rm-default-r0' {tmp_path}" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert list(data)[:3] == ["leaderboard", "readings", "failures"] and data["leaderboard"][0]["model"] == "good"
    assert data["leaderboard"][0]["tokens"] == 1500 and "episode_index" not in data["tables"]
    assert data["leaderboard"][0]["reasoning_tokens"] == 6 and "| 1,500 (6) |" in md  # tokens (reasoning)
    html = (tmp_path / "report.html").read_text()
    assert html.index("<h2 id='leaderboard'>Leaderboard</h2>") < html.index("<h2 id='summary'>")
    assert "<script>alert(1)" not in html and "\\u003c/script>" in html  # no text can close its block
    assert "href='#ep=bad-rm-default-r0'" in html and "1 of 10 transcripts in this file" in html
    assert "href='#episodes?model=good&amp;family=gym'" in html  # a leaderboard row's "all N" link


def test_outcomes_written_before_reasoning_tokens_read_as_zero() -> None:
    """An outcome's usage from before reasoning tokens were counted has no such key: 0, not unknown."""
    old = gym("m", "default", 0, 0.9)
    data = json.loads(old.to_json())
    data["outcome"]["usage"] = {"prompt_tokens": 90, "completion_tokens": 10, "total_tokens": 100, "cost_usd": 0.01}
    rec = TestRecord.from_json(json.dumps(data))
    new = gym("m", "default", 1, 0.8, usage=Usage(prompt_tokens=50, completion_tokens=50, total_tokens=100,
                                                    cost_usd=0.02, reasoning_tokens=30))
    row = leaderboard(frames_from_records([rec, new])).iloc[0]
    assert (row.tokens, row.reasoning_tokens) == (200, 30)
    assert "200 (30)" in summary_text(frames_from_records([rec, new])).splitlines()[1]
