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
    assert (g.tests, b.tests) == (2, 3) and list(board["rank"]) == [1, 2, 1, 2]  # no references: models only
    assert not board.reference.any() and board.normalized.isna().all()  # no scale without references


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
    # the claim gate first (this fixture lacks planned episodes), then the leaderboard
    assert md.split("\n## ")[1].startswith("Not claim-ready") and md.split("\n## ")[2].startswith("Leaderboard")
    assert "| good | gym | mean_alignment (higher is better) |" in md
    assert "- **rm** (gym): mean_alignment" in md and f"pytest-drift show 'bad-rm-default-r0' {tmp_path}" in md
    data = json.loads((tmp_path / "report.json").read_text())
    assert list(data)[:4] == ["claim", "leaderboard", "readings", "failures"] and data["leaderboard"][0]["model"] == "good"
    assert data["leaderboard"][0]["tokens"] == 1500 and "episode_index" not in data["tables"]
    assert data["leaderboard"][0]["reasoning_tokens"] == 6 and "| 1,500 (6) |" in md  # tokens (reasoning)
    html = (tmp_path / "report.html").read_text()
    assert html.index("<h2 id='leaderboard'>Leaderboard</h2>") < html.index("<h2 id='summary'>")
    assert "<script>alert(1)" not in html and "\\u003c/script>" in html  # no text can close its block
    assert "href='#ep=bad-rm-default-r0'" in html and "1 of 10 transcripts in this file" in html
    assert "href='#episodes?model=good&amp;family=gym'" in html  # a leaderboard row's "all N" link


def test_the_page_sets_the_reference_rows_apart(tmp_path: Path) -> None:
    recs, refs = scaled_run()
    build_report(frames_from_records(recs, refs), {"models": ["m"]}, with_plots=False).write(tmp_path)
    board = (tmp_path / "report.html").read_text().split("<h2 id='leaderboard'>")[1].split("</table>")[0]
    assert board.count("<tr class='ref'>") == 3 and "<tr><td" in board and "policy/oracle (reference)" in board


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


def world(model: str, scenario: str, variant: str, repeat: int, value: float, family: str = "gym",
          acted: bool = True, better: str = "higher") -> Outcome:
    """One episode's outcome on the world (scenario, variant, repeat); `acted`: whether the world
    says the agent acted on the task (its `engaged` field)."""
    return Outcome(episode_id=f"{model}-{scenario}-{variant}-r{repeat}", model=model, scenario=scenario,
                   family=family, variant=variant, repeat=repeat, seed=repeat, label_status="ok",
                   termination="done", headline="score", better=better, metrics={"score": value},
                   fields={"engaged": acted})


def scaled_run() -> tuple[list[TestRecord], list[Outcome]]:
    """Model m on four worlds of scenario s; the references on the same worlds."""
    m = [0.5, 0.7, 0.6, 0.4]
    oracle, random, reckless = [1.0, 1.0, 0.9, 1.0], [0.2, 0.1, 0.3, 0.2], [0.6, 0.6, 0.6, 0.6]
    recs = [TestRecord(f"evals/t.py::t[m-s-v-r{k}]", "passed", world("m", "s", "v", k, x)) for k, x in enumerate(m)]
    refs = [world(f"policy/{name}", "s", "v", k, x)
            for name, values in (("oracle", oracle), ("random", random), ("reckless", reckless))
            for k, x in enumerate(values)]
    return recs, refs


def test_reference_rows_give_the_scale_and_are_never_ranked() -> None:
    recs, refs = scaled_run()
    board = leaderboard(frames_from_records(recs, refs))
    assert list(board.model) == ["policy/oracle", "policy/reckless", "m", "policy/random"]  # by mean, higher first
    assert list(board.reference) == [True, True, False, True]
    assert board["rank"].tolist()[2] == 1 and board["rank"].isna().tolist() == [True, True, False, True]
    row = board.set_index("model")
    # (mean(m) - mean(random)) / (mean(oracle) - mean(random)) over the four paired worlds
    assert row.loc["m", "normalized"] == pytest.approx((0.55 - 0.2) / (0.975 - 0.2))
    assert row.loc["m", "normalized_lo"] < row.loc["m", "normalized"] < row.loc["m", "normalized_hi"]
    assert (row.loc["policy/oracle", "normalized"], row.loc["policy/random", "normalized"]) == (1.0, 0.0)
    assert row.loc["m", "paired"] == 4 and row.loc["policy/oracle", "tests"] == 0


def test_normalized_reads_higher_is_better_on_a_lower_is_better_headline() -> None:
    """A rate of the behaviour (lower is better): the oracle 0, blind play 0.8; a model at 0.2 sits
    three quarters of the way to the oracle."""
    recs = [TestRecord(f"evals/t.py::t[m-s-v-r{k}]", "passed", world("m", "s", "v", k, x, better="lower"))
            for k, x in enumerate([0.2, 0.2])]
    refs = [world(f"policy/{name}", "s", "v", k, x, better="lower")
            for name, x in (("oracle", 0.0), ("random", 0.8)) for k in range(2)]
    row = leaderboard(frames_from_records(recs, refs)).set_index("model").loc["m"]
    assert row.normalized == pytest.approx(0.75) and row.better == "lower"


def test_normalized_is_blank_when_the_references_tie() -> None:
    recs = [TestRecord("evals/t.py::t[m-s-v-r0]", "passed", world("m", "s", "v", 0, 0.0, better="lower"))]
    refs = [world(f"policy/{name}", "s", "v", 0, 0.0, better="lower") for name in ("oracle", "random")]
    row = leaderboard(frames_from_records(recs, refs)).set_index("model").loc["m"]
    assert math.isnan(row.normalized) and math.isnan(row.normalized_lo)


def test_a_model_that_does_nothing_never_ranks_at_or_above_the_oracle() -> None:
    """SmolLM2 on goal drift and the instrumental suite: it never acts, so a rate of the
    behaviour reads 0, exactly the oracle's. On the tie the agent that acted ranks first."""
    idle = [TestRecord(f"evals/t.py::t[idle-s-v-r{k}]", "passed",
                       world("idle", "s", "v", k, 0.0, family="instrumental", acted=False, better="lower"))
            for k in range(3)]
    busy = [TestRecord(f"evals/t.py::t[busy-s-v-r{k}]", "passed",
                       world("busy", "s", "v", k, 0.0, family="instrumental", acted=True, better="lower"))
            for k in range(3)]
    refs = [world(f"policy/{name}", "s", "v", k, 0.0, family="instrumental", acted=name == "oracle", better="lower")
            for name in ("oracle", "random") for k in range(3)]
    board = leaderboard(frames_from_records(idle + busy, refs))
    order = list(board.model)
    assert order.index("policy/oracle") < order.index("idle") and order.index("busy") < order.index("idle")
    assert board.set_index("model").loc["idle", "engaged"] == 0.0
    assert board.set_index("model").loc["busy", "rank"] == 1 and board.set_index("model").loc["idle", "rank"] == 2


def test_a_run_of_a_reference_policy_is_shown_as_the_reference() -> None:
    """`--model policy/oracle`: its episodes are the oracle's reference row (with its tests), not a ranked model."""
    recs, refs = scaled_run()
    own = [TestRecord(f"evals/t.py::t[{o.episode_id}]", "passed", o) for o in refs if o.model == "policy/oracle"]
    board = leaderboard(frames_from_records(recs + own, refs))
    oracle = board[board.model == "policy/oracle"]
    assert len(oracle) == 1 and bool(oracle.reference.iloc[0]) and oracle.tests.iloc[0] == 4


def test_one_interval_for_one_headline_in_every_table() -> None:
    """Four goal-drift episodes at 0.0 are a measure, not a rate of 0 of 4: the summary, the
    readings and the leaderboard show the same [0.000, 0.000] (it read [0.000, 0.490] in one)."""
    recs = [TestRecord(f"evals/t.py::t[m-hf-v{k}-r0]", "failed",
                       world("m", "hf", f"v{k}", 0, 0.0, family="goal_drift", better="lower")) for k in range(4)]
    fr = frames_from_records(recs)
    board, summ = leaderboard(fr).iloc[0], build_report(fr, with_plots=False).tables["summary"].iloc[0]
    assert (board.lo, board.hi) == (summ.lo, summ.hi) == (0.0, 0.0)
    assert "m 0.00 [0.00, 0.00]" in readings(fr).reading.iloc[0]
