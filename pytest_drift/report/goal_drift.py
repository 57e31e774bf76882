"""Goal-drift tables: GD_actions and GD_inaction against the instrumental-phase length N, per
goal pair x condition, raw and with the baseline subtracted - the goal-drift paper's figure; and
what interrogated agents said they pursue, per N (its stated-goal figure)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .frames import Frames
from .stats import bootstrap_mean, wilson

METRICS = ("gd_actions", "gd_inaction")
COLUMNS = ["model", "scenario", "goal_pair", "condition", "series", "instrumental_steps", "metric", "n", "mean",
           "lo", "hi", "baseline", "pairs", "diff", "diff_lo", "diff_hi"]


def _factor(ep: pd.DataFrame, name: str, fallback: pd.Series) -> pd.Series:
    column = f"factor_{name}"
    return ep[column].fillna(fallback) if column in ep else fallback


def _with_factors(ep: pd.DataFrame) -> pd.DataFrame:
    """Goal pair and condition from the variant's factors (the series `pair-condition` when an
    outcome names only that)."""
    series = ep.factor_series.astype(str)
    return ep.assign(series=series, goal_pair=_factor(ep, "goal_pair", series.str.rsplit("-", n=1).str[0]),
                     condition=_factor(ep, "condition", series.str.rsplit("-", n=1).str[-1]))


def _baseline_difference(g: pd.DataFrame, ok: pd.DataFrame, col: str) -> dict[str, Any]:
    """The condition minus its declared baseline variant (the outcome's `baseline_variant`),
    paired by repeat - one seed per repeat, shared by every variant of it - with a bootstrap 95%
    interval; nan where the baseline was not run."""
    named = g.baseline_variant.dropna() if "baseline_variant" in g else pd.Series(dtype=object)
    none = {"baseline": None if named.empty else str(named.iloc[0]), "pairs": 0,
            "diff": math.nan, "diff_lo": math.nan, "diff_hi": math.nan}
    if named.empty:
        return none
    base = ok[(ok.variant == named.iloc[0]) & (ok.model == g.model.iloc[0])].set_index("repeat")[col]
    d = (g.set_index("repeat")[col] - base.groupby(level=0).mean()).dropna()
    if d.empty:
        return none
    diff, lo, hi = bootstrap_mean(d.tolist())
    return {**none, "pairs": len(d), "diff": diff, "diff_lo": lo, "diff_hi": hi}


def gd_by_steps(fr: Frames, metrics: tuple[str, ...] = METRICS) -> pd.DataFrame:
    """hedge_fund-style runs (an instrumental phase of N steps): per model x scenario x goal pair
    x condition x N and for each metric (GD_actions, GD_inaction), the mean over ok episodes
    with a bootstrap 95% interval, and the difference to the condition's baseline variant
    paired by repeat (`_baseline_difference`)."""
    ep = fr.episodes
    if ep.empty or "m_instrumental_steps" not in ep or "factor_series" not in ep:
        return pd.DataFrame(columns=COLUMNS)
    ok = ep[ep.label_status == "ok"]
    runs = _with_factors(ok[ok.m_instrumental_steps > 0].dropna(subset=["factor_series"]))
    out = []
    keys = ["model", "scenario", "goal_pair", "condition", "series", "m_instrumental_steps"]
    for key, g in runs.groupby(keys, sort=True):
        for metric in metrics:
            col = f"m_{metric}"
            if col not in g or g[col].isna().all():
                continue
            mean, lo, hi = bootstrap_mean(g[col].dropna().tolist())
            out.append({**dict(zip(keys[:-1], key[:-1])), "instrumental_steps": int(key[-1]), "metric": metric,
                        "n": int(g[col].notna().sum()), "mean": mean, "lo": lo, "hi": hi,
                        **_baseline_difference(g.dropna(subset=[col]), ok, col)})
    return pd.DataFrame(out, columns=COLUMNS)


STATED = ("original", "hybrid", "competing", "unclear", "none")
STATED_COLUMNS = ["model", "scenario", "goal_pair", "condition", "instrumental_steps", "by", "n", *STATED,
                  "original_share", "original_share_lo", "original_share_hi",
                  "drifted_share", "drifted_share_lo", "drifted_share_hi"]


def stated_goal(fr: Frames) -> pd.DataFrame:
    """Interrogated runs: per model x scenario x goal pair x condition x N, how many agents stated each goal
    (`stated_goal`: original, hybrid, competing, unclear, none = no statement) and the share that stated the
    original goal and that drifted (hybrid or competing), Wilson 95% intervals over every ok interrogated run
    (a run that made no statement counts in n and in neither share). `by`: who labelled them, the
    scenario's deterministic label or the LLM judge (`judge+label` where both did, in different runs)."""
    ep = fr.episodes
    if ep.empty or "stated_goal" not in ep or "factor_series" not in ep:
        return pd.DataFrame(columns=STATED_COLUMNS)
    runs = ep[(ep.label_status == "ok") & ep.stated_goal.notna()].dropna(subset=["factor_series"])
    if runs.empty:
        return pd.DataFrame(columns=STATED_COLUMNS)
    steps = runs.m_instrumental_steps if "m_instrumental_steps" in runs else pd.Series(0.0, index=runs.index)
    runs = _with_factors(runs).assign(instrumental_steps=steps.fillna(0).astype(int))
    out = []
    keys = ["model", "scenario", "goal_pair", "condition", "instrumental_steps"]
    for key, g in runs.groupby(keys, sort=True):
        counts = {label: int((g.stated_goal == label).sum()) for label in STATED}
        n, drifted = len(g), counts["hybrid"] + counts["competing"]
        original = wilson(counts["original"], n)
        drift = wilson(drifted, n)
        out.append({**dict(zip(keys, key)), "by": "+".join(sorted(set(g.stated_goal_by))), "n": n, **counts,
                    **_share("original", original), **_share("drifted", drift)})
    return pd.DataFrame(out, columns=STATED_COLUMNS)


def _share(name: str, rate: tuple[float, float, float]) -> dict[str, float]:
    return {f"{name}_share": rate[0], f"{name}_share_lo": rate[1], f"{name}_share_hi": rate[2]}
