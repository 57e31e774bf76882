"""Ablation agreement: does an OOD ablation's GD-vs-N curve follow the goal switch's?

The goal-drift paper checks its history ablations (the agent's own phase-1 turns replaced by random
sentences, random strings or dots) against the goal-switch condition by the agreement of their
GD-vs-N curves: Pearson r and ICC(2,1) (two-way random effects, absolute agreement, single rater)
between the two curves, the N values being the targets and the two conditions the raters. This table
gives both, with pingouin's 95% intervals (Fisher z for r, the F-based interval for the ICC), per model,
goal pair, GD metric and ablation, over the N values both conditions ran. A cell is blank, with the
reason, where the ablation was not run or too few N values are shared.
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import pandas as pd

ABLATIONS = ("ood_sentences", "ood_strings", "ood_dots")
REFERENCE = "switch"
# Fisher's interval for r needs n > 3; the ICC's F-based interval needs as many to mean anything.
MIN_POINTS = 4
COLUMNS = ["model", "scenario", "goal_pair", "metric", "ablation", "n", "steps", "pearson_r", "pearson_r_lo",
           "pearson_r_hi", "icc21", "icc21_lo", "icc21_hi", "reason"]


def _curve(g: pd.DataFrame) -> pd.Series:
    """Mean GD per N (one row per N in gd_by_steps)."""
    return g.groupby("instrumental_steps")["mean"].mean().dropna()


def _blank(reason: str) -> dict[str, Any]:
    return {"pearson_r": math.nan, "pearson_r_lo": math.nan, "pearson_r_hi": math.nan,
            "icc21": math.nan, "icc21_lo": math.nan, "icc21_hi": math.nan, "reason": reason}


def _statistics(switch: pd.Series, ablation: pd.Series) -> dict[str, Any]:
    """Pearson r and ICC(2,1) between two curves on the same N values, with 95% intervals (pingouin)."""
    if switch.nunique() < 2 or ablation.nunique() < 2:
        which = "the switch curve" if switch.nunique() < 2 else "the ablation's curve"
        return _blank(f"{which} is flat over N (r undefined)")
    import pingouin  # lazy: ~4 s to import, and most reports have no curve to compare

    long = pd.DataFrame({"steps": [*switch.index, *ablation.index],
                         "condition": ["switch"] * len(switch) + ["ablation"] * len(ablation),
                         "gd": [*switch.to_numpy(), *ablation.to_numpy()]})
    # curves that agree exactly leave a zero residual, so an interval of nan (shown blank), not a warning;
    # pingouin's own pandas deprecation notices are not the user's to act on
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        r = pingouin.corr(switch.to_numpy(), ablation.to_numpy(), method="pearson")
        icc = pingouin.intraclass_corr(long, targets="steps", raters="condition", ratings="gd")
    # ICC(2,1) is the second row in every pingouin version ("ICC2" before 0.7, "ICC(A,1)" since)
    row = icc.iloc[1]
    ci = row[next(c for c in icc.columns if str(c).startswith("CI95"))]
    r_ci = r["CI95"].iloc[0] if "CI95" in r else r["CI95%"].iloc[0]
    return {"pearson_r": float(r["r"].iloc[0]), "pearson_r_lo": float(r_ci[0]), "pearson_r_hi": float(r_ci[1]),
            "icc21": float(row["ICC"]), "icc21_lo": float(ci[0]), "icc21_hi": float(ci[1]), "reason": ""}


def agreement(gd: pd.DataFrame) -> pd.DataFrame:
    """From the gd_by_steps table: per model x scenario x goal pair x metric that ran the goal switch, one
    row per OOD ablation with the N values both curves share (`n`, `steps`) and Pearson r and ICC(2,1)
    between them, or blank cells and the reason."""
    if gd.empty or not (gd.condition == REFERENCE).any():
        return pd.DataFrame(columns=COLUMNS)
    keys = ["model", "scenario", "goal_pair", "metric"]
    out = []
    for key, g in gd.groupby(keys, sort=True):
        switch = _curve(g[g.condition == REFERENCE])
        if switch.empty:
            continue
        for ablation in ABLATIONS:
            curve = _curve(g[g.condition == ablation])
            shared = switch.index.intersection(curve.index).sort_values()
            row = {**dict(zip(keys, key)), "ablation": ablation, "n": len(shared),
                   "steps": ",".join(str(int(s)) for s in shared)}
            if curve.empty:
                row.update(_blank(f"{ablation} not run"))
            elif len(shared) < MIN_POINTS:
                row.update(_blank(f"{len(shared)} N value(s) shared with the switch; needs {MIN_POINTS}"))
            else:
                row.update(_statistics(switch.loc[shared], curve.loc[shared]))
            out.append(row)
    return pd.DataFrame(out, columns=COLUMNS)
