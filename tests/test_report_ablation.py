"""The ablation-agreement table: Pearson r and ICC(2,1) between the goal switch's GD-vs-N curve and each
OOD ablation's, from outcomes to report.json, CSV and LaTeX; blank cells say why."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from pytest_drift import Outcome
from pytest_drift.records import TestRecord
from pytest_drift.report import build_report, frames_from_records

STEPS = (2, 4, 8, 16, 32, 64)


def hedge(condition: str, n: int, actions: float, repeat: int = 0) -> TestRecord:
    variant = f"env_vs_profit-{condition}-n{n}"
    o = Outcome(episode_id=f"m-hedge_fund-{variant}-r{repeat}", model="m", scenario="hedge_fund", family="goal_drift",
                variant=variant, repeat=repeat, seed=repeat, label_status="ok", termination="done",
                headline="mean_alignment", better="higher",
                factors={"goal_pair": "env_vs_profit", "condition": condition, "series": f"env_vs_profit-{condition}",
                         "n": n},
                metrics={"gd_actions": actions, "gd_inaction": actions / 2, "instrumental_steps": n,
                         "mean_alignment": 1 - actions})
    return TestRecord(f"evals/t.py::t[{o.episode_id}]", "passed", o)


def _records() -> list[TestRecord]:
    switch = {n: 0.1 + 0.12 * i for i, n in enumerate(STEPS)}
    recs = [hedge("switch", n, v) for n, v in switch.items()]
    recs += [hedge("ood_sentences", n, v) for n, v in switch.items()]  # the same curve: perfect agreement
    recs += [hedge("ood_strings", n, v + 0.2) for n, v in switch.items()]  # shifted: r 1, absolute agreement < 1
    recs += [hedge("ood_dots", n, 0.3) for n in (2, 4)]  # two N values only
    return recs


@pytest.fixture(scope="module")
def table() -> pd.DataFrame:
    return build_report(frames_from_records(_records()), with_plots=False).tables["ablation_agreement"]


def test_identical_curves_agree_fully(table: pd.DataFrame) -> None:
    row = table[(table.metric == "gd_actions") & (table.ablation == "ood_sentences")].iloc[0]
    assert row.n == 6 and row.steps == "2,4,8,16,32,64" and row.reason == ""
    assert row.pearson_r == pytest.approx(1.0) and row.icc21 == pytest.approx(1.0)


def test_a_shifted_curve_correlates_but_does_not_agree(table: pd.DataFrame) -> None:
    """Pearson r ignores the offset; ICC(2,1) (absolute agreement) does not. The figure is the textbook one:
    (MSR - MSE) / (MSR + (k-1) MSE + k (MSC - MSE) / n) from the two-way table's mean squares."""
    row = table[(table.metric == "gd_actions") & (table.ablation == "ood_strings")].iloc[0]
    assert row.pearson_r == pytest.approx(1.0)
    y = np.array([[0.1 + 0.12 * i, 0.3 + 0.12 * i] for i in range(6)])
    n, k = y.shape
    grand = y.mean()
    msr = k * ((y.mean(1) - grand) ** 2).sum() / (n - 1)
    msc = n * ((y.mean(0) - grand) ** 2).sum() / (k - 1)
    mse = ((y - y.mean(1, keepdims=True) - y.mean(0) + grand) ** 2).sum() / ((n - 1) * (k - 1))
    expected = (msr - mse) / (msr + (k - 1) * mse + k * (msc - mse) / n)
    assert row.icc21 == pytest.approx(expected) and 0 < row.icc21 < 0.9
    assert row.icc21_lo <= row.icc21 <= row.icc21_hi


def test_too_few_points_and_missing_ablations_are_blank_with_the_reason(table: pd.DataFrame) -> None:
    dots = table[(table.metric == "gd_actions") & (table.ablation == "ood_dots")].iloc[0]
    assert dots.n == 2 and math.isnan(dots.pearson_r) and math.isnan(dots.icc21)
    assert dots.reason == "2 N value(s) shared with the switch; needs 4"
    only_switch = build_report(frames_from_records([hedge("switch", n, 0.1 * n) for n in STEPS]),
                               with_plots=False).tables["ablation_agreement"]
    assert set(only_switch.reason) == {f"{a} not run" for a in ("ood_sentences", "ood_strings", "ood_dots")}
    assert only_switch.pearson_r.isna().all()


def test_flat_curves_have_no_correlation() -> None:
    recs = [hedge(c, n, 0.0) for c in ("switch", "ood_dots") for n in STEPS]
    row = build_report(frames_from_records(recs), with_plots=False).tables["ablation_agreement"].iloc[-1]
    assert row.ablation == "ood_dots" and "flat" in row.reason and math.isnan(row.icc21)


def test_exported_as_csv_and_latex(tmp_path: Path) -> None:
    build_report(frames_from_records(_records()), with_plots=False).write(tmp_path, formats=("csv", "latex"))
    csv = pd.read_csv(tmp_path / "tables" / "ablation_agreement.csv")
    assert {"pearson_r", "pearson_r_lo", "icc21", "icc21_hi", "reason"} <= set(csv.columns) and len(csv) == 6
    tex = (tmp_path / "tables" / "ablation_agreement.tex").read_text()
    assert r"\toprule" in tex and "ood\\_strings" in tex and "1.000 [1.000, 1.000] (6)" in tex
