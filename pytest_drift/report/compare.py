"""Two runs side by side (`pytest-drift compare RUN_A RUN_B`): per (scenario, model) the
headline of A and of B, the difference B - A with a 95% CI and a test, Holm-corrected over the
comparison; the tests whose verdict flipped; and what in the manifests makes the runs not
comparable. Formulas in docstrings; the statistics themselves live in `stats.py`."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from .frames import Frames
from .instrumental import newcombe_paired
from .reliability import episode_passed, pass_columns, repeats
from .stats import (bootstrap_difference, bootstrap_mean, fisher_p, holm, mann_whitney_p, mcnemar_exact,
                    newcombe_unpaired, wilcoxon_p)
from .tables import is_rate

ALPHA = 0.05
PAIR_KEYS = ["variant", "repeat", "seed"]  # one world: the same scenario, variant, repeat and seed
CELL_COLUMNS = ["scenario", "model", "headline", "better", "test", "n_a", "n_b", "a", "b", "diff", "diff_lo",
                "diff_hi", "p", "p_holm", "significant", "regression", "drop"]
FLIP_COLUMNS = ["episode_id", "nodeid", "a", "b"]
VERDICT = {"passed": "passed", "xpassed": "passed", "failed": "failed", "xfailed": "failed", "error": "error",
           "skipped": "skipped"}


@dataclass
class Comparison:
    cells: pd.DataFrame  # one row per (scenario, model) in either run
    flips: pd.DataFrame  # tests (by node id) whose verdict differs between the runs
    manifest_differences: list[dict[str, Any]] = field(default_factory=list)
    unmatched: dict[str, int] = field(default_factory=dict)  # tests in one run only: {"A": n, "B": m}

    def regressions(self, max_drop: float) -> pd.DataFrame:
        """The cells B got significantly worse on, by more than `max_drop` headline units."""
        c = self.cells
        return c[c.regression.fillna(False).astype(bool) & (c["drop"] > max_drop)]

    def to_json(self) -> str:
        cells = json.loads(self.cells.to_json(orient="records"))  # numpy types to JSON's, NaN to null
        return json.dumps({"cells": cells, "flips": self.flips.to_dict("records"), "unmatched": self.unmatched,
                           "manifest_differences": self.manifest_differences}, indent=1, default=str)


def _ok(ep: pd.DataFrame) -> pd.DataFrame:
    if ep.empty:  # a run without this cell (or without episodes: no columns either)
        return ep
    return ep[(ep.label_status == "ok") & ep.headline_value.notna()]


def _rate_cell(a: pd.DataFrame, b: pd.DataFrame, paired: pd.DataFrame | None) -> dict[str, Any]:
    """A 0/1 headline. Paired (the same worlds in both runs): Newcombe's paired interval and the
    exact McNemar test on the discordant worlds. Otherwise Newcombe's unpaired interval and
    Fisher's exact test."""
    if paired is not None:
        xb, xa = paired.headline_value_b.astype(bool), paired.headline_value_a.astype(bool)
        both, only_b, only_a = int((xb & xa).sum()), int((xb & ~xa).sum()), int((~xb & xa).sum())
        diff, lo, hi = newcombe_paired(both, only_b, only_a, len(paired) - both - only_b - only_a)
        return {"test": "McNemar (paired)", "diff": diff, "diff_lo": lo, "diff_hi": hi,
                "p": mcnemar_exact(only_b, only_a)}
    kb, ka = int(b.headline_value.sum()), int(a.headline_value.sum())
    diff, lo, hi = newcombe_unpaired(kb, len(b), ka, len(a))
    return {"test": "Fisher (unpaired)", "diff": diff, "diff_lo": lo, "diff_hi": hi,
            "p": fisher_p(kb, len(b), ka, len(a))}


def _measure_cell(a: pd.DataFrame, b: pd.DataFrame, paired: pd.DataFrame | None) -> dict[str, Any]:
    """A measured headline. Paired: the mean of the per-world differences with a bootstrap
    interval, Wilcoxon signed-rank test. Otherwise the difference of means with a two-sample
    bootstrap interval, Mann-Whitney U test."""
    if paired is not None:
        d = (paired.headline_value_b - paired.headline_value_a).astype(float).tolist()
        diff, lo, hi = bootstrap_mean(d)
        return {"test": "Wilcoxon (paired)", "diff": diff, "diff_lo": lo, "diff_hi": hi, "p": wilcoxon_p(d)}
    xb, xa = b.headline_value.astype(float).tolist(), a.headline_value.astype(float).tolist()
    diff, lo, hi = bootstrap_difference(xb, xa)
    return {"test": "Mann-Whitney (unpaired)", "diff": diff, "diff_lo": lo, "diff_hi": hi,
            "p": mann_whitney_p(xb, xa)}


def _pairs(a: pd.DataFrame, b: pd.DataFrame) -> pd.DataFrame | None:
    """The worlds both runs scored, joined; None unless both scored exactly the same worlds
    (then a paired test loses nothing; otherwise every episode counts, unpaired)."""
    ka, kb = a[PAIR_KEYS].astype(str), b[PAIR_KEYS].astype(str)
    if a.empty or ka.duplicated().any() or kb.duplicated().any():
        return None
    if set(map(tuple, ka.values)) != set(map(tuple, kb.values)):
        return None
    left = a.assign(**{k: ka[k] for k in PAIR_KEYS})[[*PAIR_KEYS, "headline_value"]]
    right = b.assign(**{k: kb[k] for k in PAIR_KEYS})[[*PAIR_KEYS, "headline_value"]]
    return left.merge(right, on=PAIR_KEYS, suffixes=("_a", "_b"))


def _cell(scenario: str, model: str, a: pd.DataFrame, b: pd.DataFrame) -> dict[str, Any]:
    some = a if not a.empty else b
    row: dict[str, Any] = {"scenario": scenario, "model": model, "headline": some.headline.iloc[0],
                           "better": some.better.iloc[0] if "better" in some else "lower"}
    oa, ob = _ok(a), _ok(b)
    row.update({"n_a": len(oa), "n_b": len(ob), "a": oa.headline_value.mean() if len(oa) else math.nan,
                "b": ob.headline_value.mean() if len(ob) else math.nan})
    if oa.empty or ob.empty:  # in one run only, or never scored in one: nothing to test
        return {**row, "test": "only in A" if ob.empty and not oa.empty else "only in B" if not ob.empty
                else "not scored", "diff": math.nan, "diff_lo": math.nan, "diff_hi": math.nan, "p": math.nan}
    paired = _pairs(oa, ob)
    rate = is_rate(pd.concat([a, b]), pd.concat([oa.headline_value, ob.headline_value]))
    return {**row, **(_rate_cell if rate else _measure_cell)(oa, ob, paired)}


def cells(a: Frames, b: Frames, alpha: float = ALPHA) -> pd.DataFrame:
    """Per (scenario, model) found in either run: the headline's mean over scored episodes in A
    and in B, diff = B - A with its 95% CI and p-value, `p_holm` Holm-adjusted over every tested
    cell, `significant` = p_holm < alpha, `drop` = the difference in the worse direction (B - A
    where lower is better, A - B where higher is better; positive = B is worse) and `regression`
    = significant with drop > 0."""
    ea, eb = a.episodes, b.episodes
    found = sorted({(str(s), str(m)) for ep in (ea, eb) if not ep.empty for s, m in zip(ep.scenario, ep.model)})
    rows = [_cell(s, m, _part(ea, s, m), _part(eb, s, m)) for s, m in found]
    table = pd.DataFrame(rows, columns=[c for c in CELL_COLUMNS if c not in ("p_holm", "significant", "regression",
                                                                             "drop")])
    if table.empty:
        return pd.DataFrame(columns=CELL_COLUMNS)
    table["p_holm"] = holm(table.p.astype(float).tolist())
    table["significant"] = table.p_holm < alpha
    table["drop"] = [d if better != "higher" else -d for d, better in zip(table["diff"], table.better)]
    table["regression"] = table.significant & (table["drop"] > 0)
    return table[CELL_COLUMNS].join(_reliability(a, b, found))


def _reliability(a: Frames, b: Frames, found: list[tuple[str, str]]) -> pd.DataFrame:
    """pass^1..K of each cell in A and in B (`reliability`: K the more repeats of the two runs),
    as columns `pass^k_a`, `pass^k_b`."""
    k_max = max(repeats(a.episodes), repeats(b.episodes))
    passed = {"a": episode_passed(a.tests), "b": episode_passed(b.tests)}
    rows = []
    for s, m in found:
        row: dict[str, float] = {}
        for side, run in (("a", a), ("b", b)):
            part = _part(run.episodes, s, m)
            values = pass_columns(part, passed[side], k_max) if not part.empty else \
                {f"pass^{k}": math.nan for k in range(1, k_max + 1)}
            row.update({f"{name}_{side}": v for name, v in values.items()})
        rows.append(row)
    order = [f"pass^{k}_{side}" for k in range(1, k_max + 1) for side in ("a", "b")]
    return pd.DataFrame(rows, columns=order)


def _part(ep: pd.DataFrame, scenario: str, model: str) -> pd.DataFrame:
    if ep.empty:
        return ep
    return ep[(ep.scenario == scenario) & (ep.model == model)]


def flips(a: Frames, b: Frames) -> pd.DataFrame:
    """Tests present in both runs (by node id) whose verdict differs: passed (xpassed),
    failed (xfailed: a recorded failure reproduced), error, skipped."""
    ta, tb = a.tests[["nodeid", "episode_id", "status"]], b.tests[["nodeid", "status"]]
    both = ta.merge(tb, on="nodeid", suffixes=("_a", "_b"))
    va, vb = both.status_a.map(VERDICT).fillna(both.status_a), both.status_b.map(VERDICT).fillna(both.status_b)
    changed = both[va != vb]
    out = pd.DataFrame({"episode_id": changed.episode_id, "nodeid": changed.nodeid,
                        "a": changed.status_a, "b": changed.status_b}, columns=FLIP_COLUMNS)
    return out.sort_values("nodeid", kind="stable").reset_index(drop=True)


def unmatched(a: Frames, b: Frames) -> dict[str, int]:
    """How many tests (by node id) only one run has: a test that vanished is no flip, but a
    comparison that silently lost it could hide a regression."""
    na, nb = set(a.tests.nodeid), set(b.tests.nodeid)
    return {"A": len(na - nb), "B": len(nb - na)}


def _differ(what: str, a: dict[str, Any], b: dict[str, Any], only_common: bool = True) -> list[dict[str, Any]]:
    keys = sorted(set(a) & set(b)) if only_common else sorted(set(a) | set(b))
    return [{"what": what, "key": k, "a": a.get(k), "b": b.get(k)} for k in keys
            if json.dumps(a.get(k), sort_keys=True, default=str) != json.dumps(b.get(k), sort_keys=True, default=str)]


def manifest_differences(a: dict[str, Any], b: dict[str, Any]) -> list[dict[str, Any]]:
    """What differs between the runs' manifests that bears on comparing them: the hash of a
    scenario both ran (its world's source and variant configs changed), a model's request
    settings (temperature, seed, ... as sent), package versions, Python, the --drift-seed.
    An empty manifest (outcomes without one) is said so rather than compared."""
    out: list[dict[str, Any]] = []
    for name, m in (("A", a), ("B", b)):
        if not m:
            out.append({"what": "manifest", "key": name, "a": None, "b": None})
    if not a or not b:
        return out
    out += _differ("scenario hash", a.get("scenario_hashes") or {}, b.get("scenario_hashes") or {})
    out += _differ("request settings", a.get("requests") or {}, b.get("requests") or {})
    out += _differ("package version", a.get("packages") or {}, b.get("packages") or {}, only_common=False)
    out += _differ("python", {"python": a.get("python")}, {"python": b.get("python")})
    out += _differ("option", {"drift_seed": (a.get("options") or {}).get("drift_seed")},
                   {"drift_seed": (b.get("options") or {}).get("drift_seed")})
    return out


def compare(a: Frames, b: Frames, manifest_a: dict[str, Any], manifest_b: dict[str, Any],
            alpha: float = ALPHA) -> Comparison:
    return Comparison(cells(a, b, alpha), flips(a, b), manifest_differences(manifest_a, manifest_b),
                      unmatched(a, b))


# --- rendering -------------------------------------------------------------------------------------

def _num(x: Any, digits: int = 3) -> str:
    return "" if x is None or (isinstance(x, float) and math.isnan(x)) else f"{float(x):.{digits}f}"


def _cell_line(r: dict[str, Any]) -> list[str]:
    ci = f"{_num(r['diff'])} [{_num(r['diff_lo'])}, {_num(r['diff_hi'])}]" if not math.isnan(r["diff"]) else ""
    flag = "REGRESSION" if r["regression"] else "significant" if r["significant"] else ""
    k = max([int(c[5:-2]) for c in r if c.startswith("pass^") and c.endswith("_a")], default=0)
    reliability = f"{_num(r.get(f'pass^{k}_a'), 2) or '-'} -> {_num(r.get(f'pass^{k}_b'), 2) or '-'}" if k else ""
    return [r["scenario"], r["model"], f"{r['headline']} ({r['better']})", f"{_num(r['a'])} (n={r['n_a']})",
            f"{_num(r['b'])} (n={r['n_b']})", ci, r["test"], _num(r["p_holm"], 4), reliability, flag]


CELL_HEADER = ["scenario", "model", "headline", "A", "B", "B - A [95% CI]", "test", "p (Holm)", "pass^K A -> B", ""]


def _cell_rows(c: Comparison) -> list[list[str]]:
    return [_cell_line(r) for r in c.cells.to_dict("records")]


def _aligned(header: list[str], body: list[list[str]]) -> list[str]:
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    return ["  ".join(c.ljust(w) for c, w in zip(row, widths)).rstrip() for row in [header, *body]]


def _difference_line(d: dict[str, Any]) -> str:
    if d["what"] == "manifest":
        return f"run {d['key']} has no manifest: scenario hashes and request settings cannot be checked"
    return f"{d['what']} {d['key']}: A {d['a']} != B {d['b']}"


def to_text(c: Comparison) -> str:
    lines = _aligned(CELL_HEADER, _cell_rows(c))
    lines.append("")
    lines.append(f"verdicts flipped: {len(c.flips)}")
    lines += [f"  {r.episode_id}: {r.a} -> {r.b}  ({r.nodeid})" for r in c.flips.itertuples(index=False)]
    if any(c.unmatched.values()):
        lines.append(f"tests in one run only: {c.unmatched.get('A', 0)} in A, {c.unmatched.get('B', 0)} in B")
    if c.manifest_differences:
        lines.append(f"not comparable as they stand ({len(c.manifest_differences)} manifest differences):")
        lines += [f"  {_difference_line(d)}" for d in c.manifest_differences]
    else:
        lines.append("manifests: no difference in scenario hashes, request settings or versions")
    return "\n".join(lines)


def _md_table(header: list[str], body: list[list[str]]) -> list[str]:

    def esc(s: str) -> str:
        return s.replace("|", "\\|")

    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(esc(x) for x in row) + " |" for row in body)]


def to_markdown(c: Comparison) -> str:
    lines = ["## Headlines (B - A)", "", *_md_table(CELL_HEADER[:-1] + ["flag"], _cell_rows(c))]
    lines += ["", f"## Verdicts flipped ({len(c.flips)})", ""]
    lines += _md_table(["episode", "A", "B", "test"], [[r.episode_id, r.a, r.b, r.nodeid]
                                                      for r in c.flips.itertuples(index=False)])
    if any(c.unmatched.values()):
        lines += ["", f"Tests in one run only: {c.unmatched.get('A', 0)} in A, {c.unmatched.get('B', 0)} in B."]
    lines += ["", "## Manifest differences", ""]
    lines += [f"- {_difference_line(d)}" for d in c.manifest_differences] or ["- none"]
    return "\n".join(lines) + "\n"


def render(c: Comparison, fmt: str) -> str:
    """text (the terminal), md, csv (the cells, numbers unrounded) or json (everything)."""
    if fmt == "json":
        return c.to_json()
    if fmt == "csv":
        return str(c.cells.to_csv(index=False, lineterminator="\n"))
    if fmt == "md":
        return to_markdown(c)
    return to_text(c)
