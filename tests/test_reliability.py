"""pass^k and ic@k: hand-computed on a known run, in the leaderboard, its exports and compare."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from test_report import ic_outcome

from pytest_drift import Outcome
from pytest_drift.records import TestRecord
from pytest_drift.report import build_report, frames_from_records
from pytest_drift.report.compare import cells, render, compare
from pytest_drift.report.leaderboard import leaderboard
from pytest_drift.report.reliability import any_of, pass_hat
from scenarios.instrumental.factors import LETTERS


def test_the_estimators_by_hand() -> None:
    assert pass_hat(3, 3, 3) == 1.0 and pass_hat(3, 2, 1) == pytest.approx(2 / 3)
    assert pass_hat(3, 2, 2) == pytest.approx(1 / 3)  # C(2,2)/C(3,2)
    assert pass_hat(3, 2, 3) == 0.0 and math.isnan(pass_hat(2, 2, 3))
    assert any_of(3, 1, 1) == pytest.approx(1 / 3) and any_of(3, 1, 2) == pytest.approx(2 / 3)  # 1 - C(2,2)/C(3,2)
    assert any_of(3, 1, 3) == 1.0 and any_of(3, 0, 3) == 0.0


def gym(model: str, variant: str, repeat: int, passed: bool, label: str = "ok") -> TestRecord:
    o = Outcome(episode_id=f"{model}-g-{variant}-r{repeat}", model=model, scenario="g", family="gym", variant=variant,
                repeat=repeat, seed=repeat, label_status=label, termination="done", headline="mean_alignment",
                threshold=0.5, better="higher", metrics={"mean_alignment": 1.0 if passed else 0.0} if label == "ok" else {})
    return TestRecord(f"evals/test_gym.py::t[{o.episode_id}]", "passed" if passed else "failed" if label == "ok"
                      else "error", o)


def run_three() -> list[TestRecord]:
    """World v1: passes 3/3; world v2: 1/3; world v3: 2 of 2 scored (r2 unknown)."""
    recs = [gym("m", "v1", r, True) for r in range(3)]
    recs += [gym("m", "v2", r, r == 0) for r in range(3)]
    recs += [gym("m", "v3", r, True) for r in range(2)] + [gym("m", "v3", 2, False, label="unknown")]
    return recs


def test_leaderboard_rows_carry_pass_hat_k_up_to_the_runs_repeats() -> None:
    row = leaderboard(frames_from_records(run_three())).iloc[0]
    # pass^1: (1 + 1/3 + 1) / 3; pass^2: (1 + 0 + 1) / 3; pass^3: v3 has 2 scored repeats, left out: (1 + 0) / 2
    assert row["pass^1"] == pytest.approx((1 + 1 / 3 + 1) / 3)
    assert row["pass^2"] == pytest.approx(2 / 3) and row["pass^3"] == pytest.approx(0.5)
    assert "pass^4" not in row.index


def test_ic_at_k_and_the_exports(tmp_path: Path) -> None:
    recs = [ic_outcome("m", "t", L, r, L == "A" and r == 1) for r in range(3) for L in LETTERS.values()]
    report = build_report(frames_from_records(recs), {}, with_plots=False)
    row = report.tables["leaderboard"].iloc[0]
    assert row["ic@1"] == pytest.approx(1 / 24) and row["ic@3"] == pytest.approx(1 / 8)  # only A shows it, once
    assert row["pass^3"] == pytest.approx(7 / 8)  # every world but A passes all three
    report.write(tmp_path, formats=("csv", "latex", "md"))
    csv = pd.read_csv(tmp_path / "tables" / "leaderboard.csv")
    assert {"pass^1", "pass^2", "pass^3", "ic@1", "ic@2", "ic@3"} <= set(csv.columns)
    assert "pass\\textasciicircum{}3" in (tmp_path / "tables" / "leaderboard.tex").read_text()
    assert "pass^1..3" in (tmp_path / "report.md").read_text()


def test_compare_carries_pass_hat_k_of_both_runs() -> None:
    a = frames_from_records(run_three())
    b = frames_from_records([gym("m", v, r, True) for v in ("v1", "v2", "v3") for r in range(3)])
    table = cells(a, b)
    assert table.loc[0, "pass^3_a"] == pytest.approx(0.5) and table.loc[0, "pass^3_b"] == 1.0
    text = render(compare(a, b, {}, {}), "text")
    assert "pass^K A -> B" in text and "0.50 -> 1.00" in text
    assert "pass^2_a" in render(compare(a, b, {}, {}), "csv").splitlines()[0]
