"""report.json, report.md and a self-contained report.html (plots embedded as data URIs)."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any

import pandas as pd

SECTIONS: tuple[tuple[str, str, str], ...] = (  # (table name, title, what it shows)
    ("summary", "Summary", "Per model x scenario: test verdicts and the headline metric (mean, 95% CI over ok episodes)."),
    ("instrumental_headline", "Instrumental: rates per model", "Per model (and all models), pooled over tasks: "
     "the macro-average over complete task slices; Wilson 95% CIs; denominators are all rows of complete slices "
     "(an unknown or invalid row counts and is never a positive). ic: the deterministic label; ic_adjusted: label "
     "issues adjudicated by their rule (see the label-issue table); attempted: a shortcut act tried, even if "
     "refused; completed: the task's accepted end state (an IC route included); official: through the official path."),
    ("contrasts", "Instrumental: variant contrasts", "Paired differences of the adjusted IC rate (x - y) over "
     "complete slices (model, task, repeat), every pair counted; Newcombe paired 95% CI; exact McNemar on the "
     "discordant pairs (b, c); Holm-adjusted over the table. C - A: an ambiguous rule vs an explicit prohibition; "
     "G - F: no dilemma vs a dilemma, the shortcut permitted in both; H - A: honest path blocked; B - A: watched "
     "live. existential - critical leaves out final_instance."),
    ("completion_modes", "Instrumental: completion modes", "How episodes ended, per model: count, share of all "
     "rows of complete slices, count per variant."),
    ("non_completion", "Instrumental: why tasks were not completed", "Episodes without the accepted end state, "
     "by how they ended and whether the official path was tried; share of the model's non-completed rows."),
    ("label_issues", "Instrumental: label issues and their adjudication", "Cases the deterministic label flags; "
     "the rule that settles each (it decides ic_adjusted)."),
    ("rates_by_variant", "Instrumental: rates by variant", "IC, adjusted IC, attempted, completion and official "
     "success per variant, pooled over tasks; Wilson 95% CIs; denominators are all rows of complete slices."),
    ("cross_task", "Instrumental: model rates", "Macro-average over tasks of each task's rate (complete slices only)."),
    ("instrumental_rates", "Instrumental: per task and variant", "ic_ok_rate uses ok rows only (diagnostic)."),
    ("awareness", "Instrumental: IC by evaluation-awareness tier", "Tier from the assistant's own words "
     "(strict/broad/none); a phrase the episode's own prompts contained does not count."),
    ("trace", "Instrumental: trace counts per episode (mean)", "Descriptive; never overrides a label."),
    ("tool_usage", "Tool usage", "Mean calls per episode of each tool (ok episodes)."),
    ("slices", "Instrumental: slices", "A slice (task, model, repeat) is complete only with all 8 variants; "
     "incomplete ones are excluded from every rate."),
    ("metric_cis", "Goal drift: metrics", "Mean and percentile-bootstrap 95% CI per model x scenario x variant."),
    ("gd_by_steps", "Goal drift vs N", "hedge_fund: the metric against the instrumental-phase length N per "
     "model x condition; bootstrap 95% CIs."),
    ("baseline_differences", "Goal drift: differences to the baseline variant", "Paired by repeat (seed); "
     "signed difference and the clipped max(0, drift); bootstrap 95% CIs."),
    ("noise_floor", "Noise floor", "Share of (model, variant) groups whose verdict flips across repeats."),
)
PLOTS = {"ic_by_variant": "Instrumental: IC rate by variant (95% Wilson CIs)", "gd_vs_n": "Goal drift vs N"}


WITH_INTERVALS = ("instrumental_headline", "contrasts", "rates_by_variant")  # instrumental: rate [lo, hi] in one cell


def shown(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A table as read in report.md / .html: in the instrumental tables a rate and its interval
    (`x`, `x_lo`, `x_hi`) share one cell; report.json keeps the numbers apart."""
    if name not in WITH_INTERVALS:
        return df
    out = df.copy()
    for col in [c for c in df.columns if f"{c}_lo" in df.columns and f"{c}_hi" in df.columns]:
        out[col] = [f"{fmt(m)} [{fmt(lo)}, {fmt(hi)}]" for m, lo, hi in zip(df[col], df[f"{col}_lo"], df[f"{col}_hi"])]
        out = out.drop(columns=[f"{col}_lo", f"{col}_hi"])
    return out


def plot_title(name: str) -> str:
    if name.startswith("curves_"):
        return f"Drift curves: {name[len('curves_'):]} (mean per step, 95% CI)"
    return PLOTS.get(name, name.replace("_", " "))


def _clean(value: Any) -> Any:
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 10)
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


def to_json(manifest: dict[str, Any], tables: dict[str, pd.DataFrame]) -> str:
    data = {"manifest": manifest, "tables": {name: records(df) for name, df in tables.items()}}
    return json.dumps(data, indent=1, sort_keys=True, default=str) + "\n"


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{value:.3f}"
    return str(value)


def markdown_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_no data_\n"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v).replace("|", "\\|") for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def to_markdown(manifest: dict[str, Any], tables: dict[str, pd.DataFrame], plots: dict[str, bytes]) -> str:
    out = ["# pytest-drift report", "", f"commit `{manifest.get('git_commit')}` (dirty: {manifest.get('git_dirty')}), "
           f"models: {', '.join(manifest.get('models', []))}", ""]
    for name, title, about in SECTIONS:
        if name in tables and not tables[name].empty:
            out += [f"## {title}", "", about, "", markdown_table(shown(name, tables[name]))]
    if plots:
        out += ["## Plots", ""] + [f"![{plot_title(name)}](plot_{name}.png)" for name in sorted(plots)] + [""]
    out += ["## Manifest", "", "```json", json.dumps(manifest, indent=1, sort_keys=True, default=str), "```", ""]
    return "\n".join(out)


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}h2{border-bottom:1px solid #ddd;margin-top:1.6em}
p.about{color:#555;font-size:13px}img{max-width:100%;border:1px solid #eee}pre{background:#f7f7f7;padding:1em;font-size:11px;overflow:auto}div.scroll{overflow-x:auto}"""


def to_html(manifest: dict[str, Any], tables: dict[str, pd.DataFrame], plots: dict[str, bytes]) -> str:
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>pytest-drift report</title>",
             f"<style>{CSS}</style></head><body><h1>pytest-drift report</h1>",
             f"<p>commit <code>{html.escape(str(manifest.get('git_commit')))}</code> (dirty: "
             f"{html.escape(str(manifest.get('git_dirty')))}); models: {html.escape(', '.join(manifest.get('models', [])))}</p>"]
    if plots:
        parts.append("<h2>Plots</h2>")
        for name, png in sorted(plots.items()):
            title = plot_title(name)
            data = base64.b64encode(png).decode()
            parts.append(f"<h3>{html.escape(title)}</h3><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>")
    for name, title, about in SECTIONS:
        df = tables.get(name)
        if df is not None and not df.empty:
            parts += [f"<h2 id='{name}'>{html.escape(title)}</h2><p class='about'>{html.escape(about)}</p>",
                      "<div class='scroll'>", shown(name, df).to_html(index=False, float_format=lambda v: f"{v:.3f}", na_rep="-",
                                                         border=0), "</div>"]
    parts += ["<h2>Manifest</h2><pre>", html.escape(json.dumps(manifest, indent=1, sort_keys=True, default=str)),
              "</pre></body></html>"]
    return "\n".join(parts)


def write(out: Path, manifest: dict[str, Any], tables: dict[str, pd.DataFrame], plots: dict[str, bytes]) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    files = {"report.json": to_json(manifest, tables), "report.md": to_markdown(manifest, tables, plots),
             "report.html": to_html(manifest, tables, plots)}
    written = []
    for name, text in files.items():
        tmp = out / (name + ".tmp")
        tmp.write_text(text)
        tmp.replace(out / name)  # atomic: a crash never leaves half a report
        written.append(out / name)
    for name, png in plots.items():
        (out / f"plot_{name}.png").write_bytes(png)
    return written
