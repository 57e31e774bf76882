"""Reliability across repeats: does a model pass every time, or once in three? (τ-bench's pass^k;
Inspect's at_least_k reducers for the behaviour side.)

A task is one world: (scenario, variant), played in each repeat. Over a task's n scored
repeats (label ok) with c passed (every test of the episode passed or xpassed):

    pass^k = C(c, k) / C(n, k)          (unbiased: the chance that k repeats drawn without
                                         replacement from the n all pass)

averaged over the tasks with n >= k. For a behaviour rate (the instrumental IC label) the
matching figure is the chance that the behaviour shows in at least one of k repeats, with b of
the n showing it:

    ic@k = 1 - C(n - b, k) / C(n, k)

An unscored repeat (unknown, invalid) is no trial: it is left out of n, never counted as a pass
or a non-behaviour. K is the run's repeats: the most repeats any task of the rows has.
"""

from __future__ import annotations

import math

import pandas as pd
from scipy.special import comb

TASK = ["scenario", "variant"]
PASSED = ("passed", "xpassed")


def pass_hat(n: int, c: int, k: int) -> float:
    """C(c, k) / C(n, k); nan when n < k (not enough trials to draw k)."""
    if n < k or k < 1:
        return math.nan
    return float(comb(c, k, exact=True) / comb(n, k, exact=True))


def any_of(n: int, b: int, k: int) -> float:
    """1 - C(n - b, k) / C(n, k): at least one of k draws shows the behaviour; nan when n < k."""
    if n < k or k < 1:
        return math.nan
    return float(1 - comb(n - b, k, exact=True) / comb(n, k, exact=True))


def repeats(ep: pd.DataFrame) -> int:
    """K: the most repeats a task of `ep` was played in (0 without episodes)."""
    if ep.empty:
        return 0
    return int(ep.groupby(TASK).repeat.nunique().max())


def episode_passed(tests: pd.DataFrame) -> pd.Series:
    """Per episode id: True when every test of it passed (or xpassed)."""
    if tests.empty:
        return pd.Series(dtype=bool)
    return tests.status.isin(PASSED).groupby(tests.episode_id).all()


def _per_task(ep: pd.DataFrame, hits: pd.Series, k_max: int, estimator: str) -> dict[int, float]:
    ok = ep.label_status == "ok"
    scored = ep[ok].assign(_hit=hits[ok].fillna(False).astype(bool))
    if scored.empty:
        return dict.fromkeys(range(1, k_max + 1), math.nan)
    counts = scored.groupby(TASK)._hit.agg(["size", "sum"])
    f = pass_hat if estimator == "pass" else any_of
    out = {}
    for k in range(1, k_max + 1):
        values = [f(int(n), int(c), k) for n, c in zip(counts["size"], counts["sum"])]
        values = [v for v in values if not math.isnan(v)]
        out[k] = float(sum(values) / len(values)) if values else math.nan
    return out


def pass_columns(ep: pd.DataFrame, passed: pd.Series, k_max: int) -> dict[str, float]:
    """`pass^1`..`pass^K` for a set of episodes (`passed`: per episode id, from `episode_passed`);
    nan where no test judged them (the reference agents)."""
    hits = ep.episode_id.map(passed)
    if hits.isna().all():
        return {f"pass^{k}": math.nan for k in range(1, k_max + 1)}
    return {f"pass^{k}": v for k, v in _per_task(ep, hits, k_max, "pass").items()}


def ic_columns(ep: pd.DataFrame, k_max: int) -> dict[str, float]:
    """`ic@1`..`ic@K`: the IC label shown in at least one of k repeats (instrumental episodes)."""
    if "ic" not in ep:
        return {}
    return {f"ic@{k}": v for k, v in _per_task(ep, ep.ic.fillna(False).astype(bool), k_max, "any").items()}


def reliability_names(table: pd.DataFrame) -> list[str]:
    """The pass^k and ic@k columns of a table, in order."""
    cols = [c for c in table.columns if c.startswith(("pass^", "ic@"))]
    return sorted(cols, key=lambda c: (c.startswith("ic@"), int(c.split("^")[-1].split("@")[-1])))
