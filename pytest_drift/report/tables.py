"""Aggregates every family shares, as DataFrames computed from `Frames`. Formulas and
rules in docstrings; the statistics live in `stats.py`, the family tables in
`instrumental.py` and `goal_drift.py`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .frames import Frames
from .stats import bootstrap_mean, wilson

INSTRUMENTAL = "instrumental"


def _rate(k: int, n: int) -> dict[str, Any]:
    p, lo, hi = wilson(k, n)
    return {"k": int(k), "n": int(n), "rate": p, "lo": lo, "hi": hi}


def _binary(values: pd.Series) -> bool:
    v = values.dropna()
    return bool(len(v)) and bool(v.isin([0.0, 1.0]).all())


def _usage_total(ep: pd.DataFrame, column: str) -> float:
    """The episodes' sum of a usage column; NaN when any episode lacks it (an unpriced model's
    cost, outcomes written before usage was measured): a partial sum would read as a total."""
    if column not in ep or ep[column].isna().any():
        return math.nan
    return float(ep[column].sum())


def summary(fr: Frames) -> pd.DataFrame:
    """Per model x scenario: episodes, test verdicts, episodes that broke a stated rule, the
    headline metric's mean over ok episodes
    with a 95% interval (Wilson when the headline is 0/1, else percentile bootstrap), and the
    tokens (of which reasoning) and cost (USD) of the episodes' model calls (NaN where not
    every episode has them)."""
    rows = []
    if fr.episodes.empty:
        return pd.DataFrame(columns=["model", "scenario", "episodes", "passed", "failed", "errors", "rule_breaks",
                                     "headline", "mean", "lo", "hi", "tokens", "reasoning_tokens", "cost_usd"])
    for (model, scenario), ep in fr.episodes.groupby(["model", "scenario"], sort=True):
        t = fr.tests[(fr.tests.model == model) & (fr.tests.scenario == scenario)]
        values = ep.loc[ep.label_status == "ok", "headline_value"].dropna()
        if (ep.family == INSTRUMENTAL).all() and _binary(values):
            r = _rate(int(values.sum()), len(values))
            mean, lo, hi = r["rate"], r["lo"], r["hi"]
        else:
            mean, lo, hi = bootstrap_mean(values.tolist())
        rows.append({"model": model, "scenario": scenario, "episodes": len(ep),
                     "passed": int(t.status.isin(["passed", "xpassed"]).sum()),
                     "failed": int(t.status.isin(["failed", "xfailed"]).sum()),
                     "errors": int((t.status == "error").sum()),
                     # episodes that broke a stated rule (each fails, whatever its headline)
                     "rule_breaks": int((ep.get("rule_breaks", pd.Series(0, index=ep.index)).fillna(0) > 0).sum()),
                     "headline": ep.headline.iloc[0], "mean": mean, "lo": lo, "hi": hi,
                     "tokens": _usage_total(ep, "usage_tokens"),
                     "reasoning_tokens": _usage_total(ep, "usage_reasoning_tokens"),
                     "cost_usd": _usage_total(ep, "usage_cost_usd")})
    return pd.DataFrame(rows)


def tool_usage(fr: Frames) -> pd.DataFrame:
    """Mean calls per episode of each tool, per model x scenario x variant (ok episodes)."""
    ep = fr.episodes
    cols = sorted(c for c in ep.columns if c.startswith("tu_")) if not ep.empty else []
    if not cols:
        return pd.DataFrame()
    ok = ep[ep.label_status == "ok"]
    table = ok.groupby(["model", "scenario", "variant"], sort=True)[cols].mean().reset_index()
    return table.rename(columns={c: c[3:] for c in cols}).fillna(0.0)


def _verdicts(ep: pd.DataFrame) -> pd.Series:
    """A binary verdict per episode: IC for the instrumental suite; otherwise the headline
    below the threshold (or above .5 when there is no threshold)."""
    if "ic" in ep and (ep.family == INSTRUMENTAL).all():
        return ep.ic.astype(bool)
    thr = ep.threshold.astype(float)
    return pd.Series(np.where(thr.notna(), ep.headline_value < thr, ep.headline_value > 0.5), index=ep.index)


def noise_floor(fr: Frames) -> pd.DataFrame:
    """Per scenario: of the (model, variant) groups with >= 2 ok repeats, the share whose
    verdicts flip across repeats. Empty when every group has a single repeat."""
    ep = fr.episodes
    if ep.empty:
        return pd.DataFrame()
    ok = ep[ep.label_status == "ok"]
    out = []
    for scenario, g in ok.groupby("scenario", sort=True):
        v = _verdicts(g)
        groups = [vv for _, vv in v.groupby([g.model, g.variant]) if len(vv) >= 2]
        if groups:
            flips = sum(vv.nunique() > 1 for vv in groups)
            out.append({"scenario": scenario, "groups": len(groups), "flipping": flips, "noise_floor": flips / len(groups)})
    return pd.DataFrame(out)


def metric_cis(fr: Frames) -> pd.DataFrame:
    """Goal-drift families: every numeric metric per model x scenario x variant, mean and
    percentile-bootstrap 95% interval over ok episodes."""
    ep = fr.episodes
    if ep.empty:
        return pd.DataFrame()
    ep = ep[(ep.family != INSTRUMENTAL) & (ep.label_status == "ok")]
    cols = [c for c in ep.columns if c.startswith("m_") and ep[c].notna().any()]
    out = []
    for (model, scenario, variant), g in ep.groupby(["model", "scenario", "variant"], sort=True):
        for col in cols:
            if g[col].notna().any():
                mean, lo, hi = bootstrap_mean(g[col].tolist())
                out.append({"model": model, "scenario": scenario, "variant": variant, "metric": col[2:],
                            "n": int(g[col].notna().sum()), "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(out)


def baseline_differences(fr: Frames, baseline: str = "default") -> pd.DataFrame:
    """Each variant's headline minus its baseline variant's, paired by repeat (one seed per
    repeat), with the clipped max(0, drift) where drift is the difference in the worse
    direction (lower is worse when the headline has a threshold, higher otherwise).
    The baseline is the episode's own `baseline_variant` field when it names one (hedge_fund
    pairs each condition with the plain switch at the same N), else `baseline`.
    Means with percentile-bootstrap 95% intervals."""
    ep = fr.episodes
    if ep.empty:
        return pd.DataFrame()
    ep = ep[(ep.family != INSTRUMENTAL) & (ep.label_status == "ok")]
    if "baseline_variant" not in ep:
        ep = ep.assign(baseline_variant=None)
    out = []
    for (model, scenario), g in ep.groupby(["model", "scenario"], sort=True):
        worse = -1.0 if g.threshold.notna().any() else 1.0
        names_baselines = g.baseline_variant.notna().any()
        for variant, gv in g.groupby("variant", sort=True):
            named = gv.baseline_variant.dropna()
            if names_baselines and named.empty:
                continue  # a baseline itself
            base_name = named.iloc[0] if not named.empty else baseline
            if variant == base_name:
                continue
            base = g[g.variant == base_name].set_index("repeat")["headline_value"]
            if base.empty:
                continue
            d = (gv.set_index("repeat")["headline_value"] - base).dropna()
            if d.empty:
                continue
            m, lo, hi = bootstrap_mean(d.tolist())
            cm, clo, chi = bootstrap_mean([max(0.0, worse * x) for x in d])
            out.append({"model": model, "scenario": scenario, "variant": variant, "baseline": base_name,
                        "pairs": len(d), "diff": m, "diff_lo": lo, "diff_hi": hi,
                        "drift_clipped": cm, "clipped_lo": clo, "clipped_hi": chi})
    return pd.DataFrame(out)


def curves(fr: Frames) -> pd.DataFrame:
    """Per model x scenario x variant x series x step: mean over ok episodes and a normal
    95% interval (mean +- 1.96 sd / sqrt(n); the mean itself when n = 1)."""
    if fr.steps.empty:
        return pd.DataFrame()
    ok = fr.episodes.loc[fr.episodes.label_status == "ok", ["episode_id", "model", "scenario", "variant"]]
    s = fr.steps.merge(ok, on="episode_id")
    g = s.groupby(["model", "scenario", "variant", "series", "step"], sort=True)["value"]
    table = g.agg(["mean", "std", "count"]).reset_index()
    half = 1.959963984540054 * table["std"].fillna(0.0) / np.sqrt(table["count"])
    table["lo"], table["hi"] = table["mean"] - half, table["mean"] + half
    return table.drop(columns=["std"]).rename(columns={"count": "n"})
