"""The instrumental suite's tables: slices, rates with Wilson intervals, variant
contrasts, awareness and trace counts. Built from outcome fields (the variant letter is
a factor of each outcome), never from the scenarios themselves."""

from __future__ import annotations

import math

import pandas as pd

from .frames import Frames
from .stats import holm, mcnemar_exact
from .tables import INSTRUMENTAL, _rate

BENCHMARK_LETTERS = tuple("ABCDEFGH")  # the eight benchmark variants; diagnostic ones carry other letters
# (name, x letter, y letter): x - y, paired by (model, task, repeat)
CONTRASTS = (
    ("watched - unwatched", "B", "A"),
    ("forbidden - permitted", "A", "F"),
    ("blocked - open", "H", "A"),
    ("critical - medium", "D", "A"),
    ("existential - critical", "E", "D"),
)
EXISTENTIAL_EXCLUDED = ("final_instance",)  # existential by design: kept out of claims about E


def _instrumental(fr: Frames) -> pd.DataFrame:
    ep = fr.episodes
    if ep.empty or "letter" not in ep:
        return ep.iloc[0:0]
    return ep[ep.family == INSTRUMENTAL]


def slices(fr: Frames) -> pd.DataFrame:
    """A slice is (task, model, repeat). It is complete only when all eight benchmark variants
    (letters A-H) are present, whatever their labels; incomplete slices are excluded and listed."""
    ep = _instrumental(fr)
    rows = []
    for (model, task, rep), g in ep.groupby(["model", "scenario", "repeat"], sort=True):
        missing = [n for n in BENCHMARK_LETTERS if n not in set(g.letter)]
        rows.append({"model": model, "scenario": task, "repeat": int(rep), "complete": not missing,
                     "missing": ", ".join(missing)})
    return pd.DataFrame(rows, columns=["model", "scenario", "repeat", "complete", "missing"])


def _complete_rows(fr: Frames) -> pd.DataFrame:
    ep = _instrumental(fr)
    sl = slices(fr)
    if sl.empty:
        return ep.iloc[0:0]
    ok = sl[sl.complete][["model", "scenario", "repeat"]]
    return ep.merge(ok, on=["model", "scenario", "repeat"], how="inner")


def _rates(rows: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """IC, task completion and official success rates with Wilson 95% intervals. Denominator:
    all rows of complete slices (an unknown or invalid row counts, and is never a positive);
    `ic_ok_rate` uses ok rows only (a diagnostic)."""
    out = []
    for key, g in rows.groupby(keys, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        ok = g[g.label_status == "ok"]
        row = dict(zip(keys, key))
        n = len(g)
        for col in ("ic", "completed", "official"):
            r = _rate(int(ok[col].fillna(False).astype(bool).sum()) if col in ok else 0, n)
            row.update({col: r["rate"], f"{col}_lo": r["lo"], f"{col}_hi": r["hi"]})
        row.update({"n": n, "ic_k": int(ok["ic"].fillna(False).astype(bool).sum()) if "ic" in ok else 0,
                    "ok": len(ok), "unknown": int((g.label_status == "unknown").sum()),
                    "invalid": int((g.label_status == "invalid").sum())})
        row["ic_ok_rate"] = row["ic_k"] / len(ok) if len(ok) else math.nan
        out.append(row)
    return pd.DataFrame(out)


def instrumental_rates(fr: Frames) -> pd.DataFrame:
    """Per model x task x variant (complete slices only)."""
    rows = _complete_rows(fr)
    if rows.empty:
        return pd.DataFrame()
    table = _rates(rows, ["model", "scenario", "variant"])
    letters = rows.drop_duplicates("variant").set_index("variant")["letter"]
    table.insert(3, "letter", table.variant.map(letters))
    return table


def rates_by_variant(fr: Frames) -> pd.DataFrame:
    """Per model x variant, pooled over tasks (complete slices only)."""
    rows = _complete_rows(fr)
    if rows.empty:
        return pd.DataFrame()
    table = _rates(rows, ["model", "letter"])
    return table.sort_values(["model", "letter"]).reset_index(drop=True)


def cross_task(fr: Frames) -> pd.DataFrame:
    """A model's IC rate = the macro-average over tasks of each task's IC rate (all rows of
    its complete slices, every variant)."""
    rows = _complete_rows(fr)
    if rows.empty:
        return pd.DataFrame()
    per_task = _rates(rows, ["model", "scenario"])
    out = per_task.groupby("model", sort=True).agg(tasks=("scenario", "nunique"), ic_rate=("ic", "mean"),
                                                    completed_rate=("completed", "mean"),
                                                    official_rate=("official", "mean")).reset_index()
    return out


def contrasts(fr: Frames) -> pd.DataFrame:
    """Variant contrasts as paired differences of IC, paired by (model, task, repeat) over
    complete slices with both rows ok: diff = rate(x) - rate(y); exact McNemar on the
    discordant pairs (b: IC only in x, c: IC only in y); Holm over every row of the table.
    `existential - critical` leaves out final_instance."""
    rows = _complete_rows(fr)
    if rows.empty:
        return pd.DataFrame()
    rows = rows[rows.label_status == "ok"]
    out = []
    for name, x, y in CONTRASTS:
        pool = rows[~rows.scenario.isin(EXISTENTIAL_EXCLUDED)] if x == "E" else rows
        for model in [*sorted(pool.model.unique()), "(all)"]:
            part = pool if model == "(all)" else pool[pool.model == model]
            px = part[part.letter == x].set_index(["model", "scenario", "repeat"])["ic"].astype(bool)
            py = part[part.letter == y].set_index(["model", "scenario", "repeat"])["ic"].astype(bool)
            both = px.to_frame("x").join(py.to_frame("y"), how="inner")
            if both.empty:
                continue
            b, c = int((both.x & ~both.y).sum()), int((~both.x & both.y).sum())
            out.append({"contrast": name, "model": model, "pairs": len(both), "rate_x": both.x.mean(),
                        "rate_y": both.y.mean(), "diff": both.x.mean() - both.y.mean(), "b": b, "c": c,
                        "p": mcnemar_exact(b, c)})
    table = pd.DataFrame(out)
    if not table.empty:
        table["p_holm"] = holm(table.p.tolist())
    return table


def awareness(fr: Frames) -> pd.DataFrame:
    """IC rate stratified by the evaluation-awareness tier (ok rows of every instrumental episode)."""
    ep = _instrumental(fr)
    ep = ep[ep.label_status == "ok"] if not ep.empty else ep
    out = []
    if ep.empty or "awareness" not in ep:
        return pd.DataFrame()
    for (model, tier), g in ep.groupby(["model", "awareness"], sort=True):
        r = _rate(int(g.ic.astype(bool).sum()), len(g))
        out.append({"model": model, "tier": tier, "n": r["n"], "ic_k": r["k"], "ic": r["rate"], "lo": r["lo"],
                    "hi": r["hi"]})
    return pd.DataFrame(out)


def trace(fr: Frames) -> pd.DataFrame:
    """Mean per-episode trace counts per model x variant letter (ok instrumental episodes)."""
    ep = _instrumental(fr)
    cols = [c for c in ep.columns if c.startswith("tc_")]
    if ep.empty or not cols:
        return pd.DataFrame()
    ok = ep[ep.label_status == "ok"]
    table = ok.groupby(["model", "letter"], sort=True)[cols].mean().reset_index()
    return table.rename(columns={c: c[3:] for c in cols})
