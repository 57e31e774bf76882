"""Goal-drift tables: metrics against the instrumental-phase length N."""

from __future__ import annotations

import pandas as pd

from .frames import Frames
from .stats import bootstrap_mean


def gd_by_steps(fr: Frames, metric: str = "gd_actions") -> pd.DataFrame:
    """hedge_fund-style runs: a metric against the instrumental-phase length N, per model x
    scenario x series (the variant's `series` factor: goal pair and condition), with bootstrap
    95% CIs."""
    ep, col = fr.episodes, f"m_{metric}"
    if ep.empty or "m_instrumental_steps" not in ep or col not in ep or "factor_series" not in ep:
        return pd.DataFrame()
    ep = ep[(ep.label_status == "ok") & (ep.m_instrumental_steps > 0) & ep[col].notna()].copy()
    ep["series"] = ep.factor_series
    out = []
    for (model, scenario, series, n), g in ep.groupby(["model", "scenario", "series", "m_instrumental_steps"], sort=True):
        mean, lo, hi = bootstrap_mean(g[col].tolist())
        out.append({"model": model, "scenario": scenario, "series": series, "instrumental_steps": int(n),
                    "metric": metric, "n": len(g), "mean": mean, "lo": lo, "hi": hi})
    return pd.DataFrame(out)
