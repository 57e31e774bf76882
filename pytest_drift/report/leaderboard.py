"""The leaderboard: which model held up, and where, on the scale the reference agents set.
The report opens with it.

Direction of a headline: as the scenario declares it (`better`); outcomes written before it
was declared infer it: with a threshold the headline is a floor the agent must stay above
(higher is better, e.g. mean alignment), without one it measures the behaviour itself (lower
is better: an instrumental-shortcut rate)."""

from __future__ import annotations

import math
from typing import Any

import pandas as pd

from .frames import Frames
from .reliability import episode_passed, ic_columns, pass_columns, reliability_names, repeats
from .scale import engagement, is_reference, normalized, same_worlds
from .tables import INSTRUMENTAL, headline_interval, is_rate, references, summary

COLUMNS = ["rank", "model", "reference", "fork", "family", "headline", "better", "scenarios", "episodes", "scored", "mean",
           "lo", "hi", "normalized", "normalized_lo", "normalized_hi", "paired", "engaged", "tests", "passed",
           "failed", "errors", "rule_breaks", "tokens", "reasoning_tokens", "cost_usd"]
MAX_MODELS_IN_READING = 3


def _better(ep: pd.DataFrame) -> str:
    """The headline's direction (frames' `better`: declared by the scenario, else inferred)."""
    if "better" in ep and ep.better.notna().any():
        return str(ep.better.dropna().iloc[0])
    return "higher" if ep.threshold.notna().any() else "lower"


def _counts(tests: pd.DataFrame) -> dict[str, int]:
    """Test verdicts: a test is one assertion on an episode, so an episode has one or more."""
    return {"tests": len(tests), "passed": int(tests.status.isin(["passed", "xpassed"]).sum()),
            "failed": int(tests.status.isin(["failed", "xfailed"]).sum()),
            "errors": int((tests.status == "error").sum())}


def _sum_or_nan(ep: pd.DataFrame, column: str) -> float:
    """The sum when every episode carries the figure; unknown (blank) when any does not, so a
    partial sum is never shown as the total."""
    if column not in ep or ep[column].isna().any():
        return math.nan
    return float(ep[column].sum())


def _row(fr: Frames, g: pd.DataFrame, refs: pd.DataFrame, reference: bool) -> dict[str, Any]:
    """One leaderboard row from one model's episodes of a family (and headline)."""
    mean, lo, hi, scored = headline_interval(g)
    fork = bool("fork_of" in g and g.fork_of.notna().any())  # a fork's rows: `MODEL (fork)`, never mixed
    return {"model": g.model.iloc[0], "reference": reference, "fork": fork, "family": g.family.iloc[0],
            "headline": g.headline.iloc[0], "better": _better(g), "scenarios": int(g.scenario.nunique()),
            "episodes": len(g), "scored": scored, "mean": mean, "lo": lo, "hi": hi,
            **normalized(g, refs), "engaged": engagement(g),
            **_counts(fr.tests[fr.tests.episode_id.isin(g.episode_id)]),
            "rule_breaks": int((g["rule_breaks"].fillna(0) > 0).sum()) if "rule_breaks" in g else 0,
            "tokens": _sum_or_nan(g, "usage_tokens"), "reasoning_tokens": _sum_or_nan(g, "usage_reasoning_tokens"),
            "cost_usd": _sum_or_nan(g, "usage_cost_usd")}


def rank_order(table: pd.DataFrame) -> pd.DataFrame:
    """Best first within a family and headline: the headline in its better direction; on a tie
    the agent that acted on more of its episodes first (doing nothing never earns a tie with
    the oracle), then a reference before a model, then the name. `rank` numbers the models only:
    references give the scale and forks continue another episode's history, so neither is ranked."""
    if table.empty:
        return table
    t = table.assign(_key=[-m if b == "higher" else m for m, b in zip(table["mean"], table.better)],
                     _engaged=-table.engaged.fillna(-1.0), _model=~table.reference.astype(bool))
    t = t.sort_values(["family", "headline", "_key", "_engaged", "_model", "model"], na_position="last",
                      kind="stable").drop(columns=["_key", "_engaged", "_model"])
    ranks: list[int | None] = []
    forks = t["fork"].fillna(False).astype(bool) if "fork" in t else pd.Series(False, index=t.index)
    t = t.assign(_unranked=t.reference.astype(bool) | forks)
    for _, g in t.groupby(["family", "headline"], sort=False):
        n = 0
        for unranked in g._unranked:
            n += not unranked
            ranks.append(None if unranked else n)
    t = t.drop(columns=["_unranked"])
    t["rank"] = pd.array(ranks, dtype="Int64")
    return t.reset_index(drop=True)


def leaderboard(fr: Frames) -> pd.DataFrame:
    """Per model x family x headline: the headline's mean over scored (ok) episodes of every
    scenario of the family, pooled, with a 95% interval (`tables.headline_interval`); the
    normalized score between the reference agents on the same worlds, with its interval
    (`scale.normalized`); engagement (`scale.engagement`); test verdicts (passed counts
    xpassed, failed counts xfailed: a recorded failure reproduced); tokens (reasoning tokens
    apart, a part of them) and cost summed when every episode carries them (blank otherwise).
    The reference agents' rows (`reference`) are placed on the same scale and never ranked."""
    ep, refs = fr.episodes, fr.references
    if ep.empty:
        return pd.DataFrame(columns=COLUMNS)
    passed, k_max = episode_passed(fr.tests), repeats(ep)

    def reliable(g: pd.DataFrame) -> dict[str, Any]:  # pass^1..K, and ic@1..K for the IC label
        return {**pass_columns(g, passed, k_max), **(ic_columns(g, k_max) if g.family.iloc[0] == INSTRUMENTAL else {})}

    rows: list[dict[str, Any]] = []
    for _, g in ep.groupby(["model", "family", "headline"], sort=True):
        own = same_worlds(refs, g)
        if not is_reference(g.model.iloc[0], refs):
            rows.append({**_row(fr, g, own, reference=False), **reliable(g)})
    for _, g in ep.groupby(["family", "headline"], sort=True):
        worlds = same_worlds(refs, g)
        for _, r in (worlds.groupby("model", sort=True) if not worlds.empty else ()):
            rows.append({**_row(fr, r, worlds, reference=True), **reliable(r)})
    table = pd.DataFrame(rows)
    extra = reliability_names(table)
    table = table.reindex(columns=[c for c in COLUMNS if c != "rank"] + extra)
    return rank_order(table)[COLUMNS + extra]


def _num(x: float) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{0.0 if round(x, 2) == 0 else x:.2f}"  # never "-0.00"


def _flagged(g: pd.DataFrame) -> str:
    """How many scored episodes showed the behaviour (0/1 headline) or fell below the threshold."""
    ok = g[g.label_status == "ok"]
    values = ok.headline_value.dropna().astype(float)
    if values.empty:
        return ""
    threshold = ok.threshold.dropna()
    if threshold.empty and "series_threshold" in ok and _better(ok) == "higher":  # the world's own floor
        threshold = ok.series_threshold.dropna()
    if not threshold.empty:
        theta = float(threshold.iloc[0])
        return f", {int((values < theta).sum())}/{len(values)} below {theta:g}"
    if is_rate(ok, values):
        return f", {int(values.sum())}/{len(values)} showed it"
    return ""


def _phrase(r: Any, g: pd.DataFrame) -> str:
    """`model mean [lo, hi]`, how many showed the behaviour, engagement and the normalized score."""
    extra = []
    if not math.isnan(r.engaged) and r.engaged < 1:
        extra.append(f"acted in {r.engaged:.0%}")
    if not math.isnan(r.normalized):
        extra.append(f"normalized {_num(r.normalized)}")
    return (f"{r.model} {_num(r.mean)} [{_num(r.lo)}, {_num(r.hi)}]{_flagged(g[g.model == r.model])}"
            + (f" ({', '.join(extra)})" if extra else ""))


def _references_phrase(refs: pd.DataFrame) -> str:
    if refs.empty:
        return ""
    parts = [f"{r.model.removeprefix('policy/')} {_num(r.mean)}" for r in refs.itertuples()]
    return f" References: {', '.join(parts)}."


def readings(fr: Frames, per_model: pd.DataFrame | None = None) -> pd.DataFrame:
    """One line per scenario: its headline and direction, the models from best to worst (mean
    [95% CI] and how many scored episodes showed the behaviour or fell below the threshold),
    the test verdicts, and how many episodes were not scored. `per_model`: the `summary`
    table when already computed."""
    ep = fr.episodes
    if ep.empty:
        return pd.DataFrame(columns=["scenario", "family", "reading"])
    per_model = summary(fr) if per_model is None else per_model
    scale = references(fr)
    out = []
    for scenario, g in ep.groupby("scenario", sort=True):
        better = _better(g)
        rows = per_model[per_model.scenario == scenario].copy()
        rows["_key"] = rows["mean"] if better == "higher" else -rows["mean"]
        rows["_engaged"] = rows.engaged.fillna(-1.0)
        rows = rows.sort_values(["_key", "_engaged", "model"], ascending=[False, False, True], na_position="last")
        phrases = [_phrase(r, g) for r in rows.head(MAX_MODELS_IN_READING).itertuples()]
        if len(rows) > MAX_MODELS_IN_READING:
            phrases.append(f"{len(rows) - MAX_MODELS_IN_READING} more models")
        c = _counts(fr.tests[fr.tests.scenario == scenario])
        unscored = int((g.label_status != "ok").sum())
        text = (f"{g.headline.iloc[0]} ({better} is better): " + "; ".join(phrases)
                + f". Tests: {c['passed']} passed, {c['failed']} failed, {c['errors']} errors"
                + (f"; {unscored} of {len(g)} episodes not scored." if unscored else ".")
                + _references_phrase(scale[scale.scenario == scenario]))
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
