"""Aggregates every family shares, as DataFrames computed from `Frames`. Formulas and
rules in docstrings; the statistics live in `stats.py`, the family tables in
`instrumental.py` and `goal_drift.py`."""

from __future__ import annotations

import math
from typing import Any

import numpy as np
import pandas as pd

from .frames import Frames
from .scale import engagement, normalized, same_worlds
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


def is_rate(ep: pd.DataFrame, values: pd.Series) -> bool:
    """A headline is a rate (a 0/1 label per episode) in the instrumental suite, where the
    label is the IC verdict; elsewhere it is a measure whose values may happen to be 0 or 1
    (four episodes with GD_actions 0.0 are not a rate of 0 of 4)."""
    return bool((ep.family == INSTRUMENTAL).all()) and _binary(values)


def headline_interval(ep: pd.DataFrame) -> tuple[float, float, float, int]:
    """The headline's mean over the ok episodes of `ep` with its 95% interval, and their number:
    Wilson for a rate (`is_rate`), percentile bootstrap otherwise. Every table that shows a
    headline (summary, leaderboard, readings) takes it from here, so they agree."""
    values = ep.loc[ep.label_status == "ok", "headline_value"].dropna().astype(float)
    if is_rate(ep, values):
        r = _rate(int(values.sum()), len(values))
        return r["rate"], r["lo"], r["hi"], len(values)
    mean, lo, hi = bootstrap_mean(values.tolist())
    return mean, lo, hi, len(values)


SUMMARY_COLUMNS = ["model", "scenario", "episodes", "scored", "tests", "passed", "failed", "errors", "rule_breaks",
                   "headline", "mean", "lo", "hi", "normalized", "normalized_lo", "normalized_hi", "engaged",
                   "tokens", "reasoning_tokens", "cost_usd"]
REFERENCE_COLUMNS = ["model", "scenario", "episodes", "scored", "rule_breaks", "headline", "mean", "lo", "hi",
                     "engaged"]


def _rule_breaks(ep: pd.DataFrame) -> int:
    """Episodes that broke a stated rule (each fails, whatever its headline)."""
    return int((ep["rule_breaks"].fillna(0) > 0).sum()) if "rule_breaks" in ep else 0


def summary(fr: Frames) -> pd.DataFrame:
    """Per model x scenario: episodes and how many were scored, test verdicts (a test is one
    assertion on an episode: an episode has one or more), episodes that broke a stated rule,
    the headline's mean over ok episodes with a 95% interval (`headline_interval`), the
    normalized score between the reference agents and engagement (`scale`), and the tokens (of
    which reasoning) and cost (USD) of the episodes' model calls (NaN where not every episode
    has them: an unpriced model's cost is unknown, not free)."""
    if fr.episodes.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rows = []
    for (model, scenario), ep in fr.episodes.groupby(["model", "scenario"], sort=True):
        t = fr.tests[fr.tests.episode_id.isin(ep.episode_id)]
        mean, lo, hi, scored = headline_interval(ep)
        rows.append({"model": model, "scenario": scenario, "episodes": len(ep), "scored": scored, "tests": len(t),
                     "passed": int(t.status.isin(["passed", "xpassed"]).sum()),
                     "failed": int(t.status.isin(["failed", "xfailed"]).sum()),
                     "errors": int((t.status == "error").sum()), "rule_breaks": _rule_breaks(ep),
                     "headline": ep.headline.iloc[0], "mean": mean, "lo": lo, "hi": hi,
                     **{k: v for k, v in normalized(ep, same_worlds(fr.references, ep)).items() if k != "paired"},
                     "engaged": engagement(ep),
                     "tokens": _usage_total(ep, "usage_tokens"),
                     "reasoning_tokens": _usage_total(ep, "usage_reasoning_tokens"),
                     "cost_usd": _usage_total(ep, "usage_cost_usd")})
    return pd.DataFrame(rows, columns=SUMMARY_COLUMNS)


def references(fr: Frames) -> pd.DataFrame:
    """Per reference agent x scenario, on the worlds of the run: the headline's mean with its
    95% interval, engagement and rule breaks - the scale every normalized score is read on."""
    refs = fr.references
    if refs.empty:
        return pd.DataFrame(columns=REFERENCE_COLUMNS)
    rows = []
    for (model, scenario), ep in refs.groupby(["model", "scenario"], sort=True):
        mean, lo, hi, scored = headline_interval(ep)
        rows.append({"model": model, "scenario": scenario, "episodes": len(ep), "scored": scored,
                     "rule_breaks": _rule_breaks(ep), "headline": ep.headline.iloc[0], "mean": mean, "lo": lo,
                     "hi": hi, "engaged": engagement(ep)})
    return pd.DataFrame(rows, columns=REFERENCE_COLUMNS)


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
    if "series_threshold" in ep:  # a world's own threshold (hedge_fund's alignment_threshold field)
        thr = thr.fillna(ep.series_threshold.astype(float))
    higher = _higher_is_better(ep)
    below = np.where(higher, ep.headline_value < thr, ep.headline_value > thr)
    return pd.Series(np.where(thr.notna(), below, ep.headline_value > 0.5), index=ep.index)


def _higher_is_better(ep: pd.DataFrame) -> pd.Series:
    """Per episode: the headline is better higher (frames' `better`; else a threshold means a floor)."""
    if "better" in ep:
        return ep.better.fillna("lower").eq("higher") | (ep.better.isna() & ep.threshold.notna())
    return ep.threshold.notna()


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
    direction (lower is worse when higher is better, as the scenario declares it).
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
        worse = -1.0 if _higher_is_better(g).any() else 1.0
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
                        "drift_clipped": cm, "drift_clipped_lo": clo, "drift_clipped_hi": chi})
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


FORK_COLUMNS = ["source", "source_model", "scenario", "variant", "repeat", "headline", "source_value", "fork_step",
                "model", "intervened", "intervention", "fork_value", "diverges_at", "divergence", "fork"]


def forks(fr: Frames) -> pd.DataFrame:
    """One row per fork, grouped under its source episode: the source's headline value and the
    fork's side by side, the fork step K, the fork's model (marked, intervened or not), the
    intervention's text, and the first step whose actions differ from the source's (blank when
    unknown or never; `divergence` says which). A source not among the outcomes leaves its
    columns blank (the fork's provenance still names it)."""
    ep = fr.episodes
    if ep.empty or "fork_of" not in ep or ep.fork_of.isna().all():
        return pd.DataFrame(columns=FORK_COLUMNS)
    by_id = ep.set_index("episode_id")
    rows = []
    for f in ep[ep.fork_of.notna()].itertuples(index=False):
        source = by_id.loc[f.fork_of] if f.fork_of in by_id.index else None
        rows.append({"source": f.fork_of, "source_model": None if source is None else source.model,
                     "scenario": f.scenario, "variant": f.variant, "repeat": f.repeat, "headline": f.headline,
                     "source_value": None if source is None else source.headline_value,
                     "fork_step": f.fork_step, "model": f.model, "intervened": bool(f.intervened),
                     "intervention": f.intervention, "fork_value": f.headline_value,
                     "diverges_at": f.fork_diverges_at, "divergence": f.fork_divergence, "fork": f.episode_id})
    out = pd.DataFrame(rows, columns=FORK_COLUMNS)
    out["fork_step"] = out.fork_step.astype("Int64")
    out["diverges_at"] = pd.to_numeric(out.diverges_at, errors="coerce").astype("Int64")
    return out.sort_values(["source", "fork_step", "model", "fork"], kind="stable").reset_index(drop=True)
