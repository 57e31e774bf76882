"""The leaderboard: which model held up, and where. The report opens with it.

Direction of a headline: when the scenario sets a threshold, the headline is a floor the
agent must stay above (higher is better, e.g. mean alignment); without one it measures the
behaviour itself (lower is better: an instrumental-shortcut rate, goal drift)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .frames import Frames
from .stats import bootstrap_mean, wilson
from .tables import summary

COLUMNS = ["model", "family", "headline", "better", "scenarios", "episodes", "scored", "mean", "lo", "hi",
           "passed", "failed", "errors", "rule_breaks", "tokens", "reasoning_tokens", "cost_usd"]
MAX_MODELS_IN_READING = 3


def _binary(values: pd.Series) -> bool:
    return bool(len(values)) and bool(values.isin([0.0, 1.0]).all())


def _interval(values: pd.Series) -> tuple[float, float, float]:
    """Wilson for a 0/1 headline (a rate), percentile bootstrap of the mean otherwise."""
    if _binary(values):
        return wilson(int(values.sum()), len(values))
    return bootstrap_mean(values.tolist())


def _better(ep: pd.DataFrame) -> str:
    return "higher" if ep.threshold.notna().any() else "lower"


def _counts(tests: pd.DataFrame) -> dict[str, int]:
    return {"passed": int(tests.status.isin(["passed", "xpassed"]).sum()),
            "failed": int(tests.status.isin(["failed", "xfailed"]).sum()),
            "errors": int((tests.status == "error").sum())}


def _sum_or_nan(ep: pd.DataFrame, column: str) -> float:
    """The sum when every episode carries the figure; unknown (blank) when any does not, so a
    partial sum is never shown as the total."""
    if column not in ep or ep[column].isna().any():
        return math.nan
    return float(ep[column].sum())


def leaderboard(fr: Frames) -> pd.DataFrame:
    """Per model x family x headline: the headline's mean over scored (ok) episodes of every
    scenario of the family, pooled, with a 95% interval (Wilson when the headline is 0/1,
    percentile bootstrap otherwise); test verdicts (passed counts xpassed, failed counts
    xfailed: a recorded failure reproduced); tokens (reasoning tokens apart, a part of
    them) and cost summed when every episode carries them (blank otherwise). Within a family, the best model comes first."""
    ep = fr.episodes
    if ep.empty:
        return pd.DataFrame(columns=COLUMNS)
    rows: list[dict[str, Any]] = []
    for (model, family, headline), g in ep.groupby(["model", "family", "headline"], sort=True):
        values = g.loc[g.label_status == "ok", "headline_value"].dropna().astype(float)
        mean, lo, hi = _interval(values)
        t = fr.tests[fr.tests.episode_id.isin(g.episode_id)]
        rows.append({"model": model, "family": family, "headline": headline, "better": _better(g),
                     "scenarios": int(g.scenario.nunique()), "episodes": len(g), "scored": len(values),
                     "mean": mean, "lo": lo, "hi": hi, **_counts(t),
                     "rule_breaks": int((g["rule_breaks"].fillna(0) > 0).sum()) if "rule_breaks" in g else 0,
                     "tokens": _sum_or_nan(g, "usage_tokens"),
                     "reasoning_tokens": _sum_or_nan(g, "usage_reasoning_tokens"),
                     "cost_usd": _sum_or_nan(g, "usage_cost_usd")})
    table = pd.DataFrame(rows, columns=COLUMNS)
    table["_key"] = [m if b == "higher" else -m for m, b in zip(table["mean"], table["better"])]
    table = table.sort_values(["family", "headline", "_key", "model"], ascending=[True, True, False, True],
                              na_position="last", kind="stable")
    return table.drop(columns="_key").reset_index(drop=True)


def _num(x: float) -> str:
    return "-" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{x:.2f}"


def _flagged(g: pd.DataFrame) -> str:
    """How many scored episodes showed the behaviour (0/1 headline) or fell below the threshold."""
    ok = g[g.label_status == "ok"]
    values = ok.headline_value.dropna().astype(float)
    if values.empty:
        return ""
    threshold = ok.threshold.dropna()
    if not threshold.empty:
        theta = float(threshold.iloc[0])
        return f", {int((values < theta).sum())}/{len(values)} below {theta:g}"
    if _binary(values):
        return f", {int(values.sum())}/{len(values)} showed it"
    return ""


def readings(fr: Frames, per_model: pd.DataFrame | None = None) -> pd.DataFrame:
    """One line per scenario: its headline and direction, the models from best to worst (mean
    [95% CI] and how many scored episodes showed the behaviour or fell below the threshold),
    the test verdicts, and how many episodes were not scored. `per_model`: the `summary`
    table when already computed."""
    ep = fr.episodes
    if ep.empty:
        return pd.DataFrame(columns=["scenario", "family", "reading"])
    per_model = summary(fr) if per_model is None else per_model
    out = []
    for scenario, g in ep.groupby("scenario", sort=True):
        better = _better(g)
        rows = per_model[per_model.scenario == scenario].copy()
        rows["_key"] = rows["mean"] if better == "higher" else -rows["mean"]
        rows = rows.sort_values(["_key", "model"], ascending=[False, True], na_position="last")
        phrases = [f"{r.model} {_num(r.mean)} [{_num(r.lo)}, {_num(r.hi)}]{_flagged(g[g.model == r.model])}"
                   for r in rows.head(MAX_MODELS_IN_READING).itertuples()]
        if len(rows) > MAX_MODELS_IN_READING:
            phrases.append(f"{len(rows) - MAX_MODELS_IN_READING} more models")
        c = _counts(fr.tests[fr.tests.scenario == scenario])
        unscored = int((g.label_status != "ok").sum())
        text = (f"{g.headline.iloc[0]} ({better} is better): " + "; ".join(phrases)
                + f". Tests: {c['passed']} passed, {c['failed']} failed, {c['errors']} errors"
                + (f"; {unscored} of {len(g)} episodes not scored." if unscored else "."))
        out.append({"scenario": scenario, "family": g.family.iloc[0], "reading": text})
    return pd.DataFrame(out, columns=["scenario", "family", "reading"])


def failures(fr: Frames) -> pd.DataFrame:
    """Every failed, xfailed or erroring test: its episode and the first line of its message."""
    t = fr.tests
    if t.empty:
        return pd.DataFrame(columns=["nodeid", "status", "episode_id", "message"])
    bad = t[t.status.isin(["failed", "xfailed", "error"])]
    first = bad.message.fillna("").map(lambda m: m.strip().splitlines()[0] if m.strip() else "")
    return pd.DataFrame({"nodeid": bad.nodeid, "status": bad.status, "episode_id": bad.episode_id,
                         "message": first}).reset_index(drop=True)


_WORST_FIRST = ("error", "failed", "xfailed", "xpassed", "passed", "skipped")


def episode_index(fr: Frames) -> pd.DataFrame:
    """One row per episode: what it was, how it ended, its headline and its tests' worst verdict."""
    ep = fr.episodes
    cols = ["episode_id", "model", "family", "scenario", "variant", "repeat", "label_status", "termination",
            "headline", "headline_value"]
    if ep.empty:
        return pd.DataFrame(columns=[*cols, "verdict"])
    rank = {s: i for i, s in enumerate(_WORST_FIRST)}
    worst = fr.tests.assign(_r=fr.tests.status.map(rank)).sort_values("_r").drop_duplicates("episode_id")
    table = ep[[c for c in cols if c in ep.columns] + (["letter"] if "letter" in ep.columns else [])].copy()
    table["verdict"] = table.episode_id.map(worst.set_index("episode_id").status).fillna("")
    return table.reset_index(drop=True)
