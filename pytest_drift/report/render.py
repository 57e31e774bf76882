"""report.json, report.md and a self-contained report.html (plots and transcripts embedded).

Each opens with the Leaderboard (per model x family) and a one-line reading per scenario;
the failures follow, then the details. In report.html every table row and every failure
links to its episodes' transcripts (`transcripts.py`)."""

from __future__ import annotations

import base64
import html
import json
import math
from pathlib import Path
from typing import Any, Callable
from urllib.parse import quote

import pandas as pd

from ..records import read_transcript_lines
from . import sortable
from . import transcripts as tx
from .claim import Claim
from .export import interval_triples, write_tables
from .plots import Plot

SECTIONS: tuple[tuple[str, str, str], ...] = (  # (table name, title, what it shows)
    ("summary", "Summary", "Per model x scenario: episodes and how many were scored; test verdicts (tests are "
     "counted, not episodes: an episode has one test or more); the headline metric (mean, 95% CI over scored "
     "episodes: Wilson for a rate, bootstrap otherwise); normalized between the reference agents on the same "
     "worlds (1 = oracle, 0 = random); acted: share of scored episodes in which the agent acted on the task; "
     "tokens and cost (unpriced: tokens counted, no price known)."),
    ("references", "Reference agents", "Scripted agents on the same worlds as the models (same scenario, variant, "
     "repeat and seed), no model: policy/oracle (the task done right), policy/random (blind play), "
     "policy/reckless (the stated rule broken once, then the oracle). The scale of every normalized score; "
     "skipped with --drift-no-references."),
    ("forks", "Forks", "Recorded episodes continued from their step K (pytest-drift's --drift-fork), grouped under "
     "the source: the source's headline value and the fork's side by side; the fork's model is marked (fork) or "
     "(fork, intervened): an intervened fork had a message inserted at K and the world's on_fork hook run; "
     "diverges_at: the first step whose actions (tools and arguments) differ from the source's, blank when the "
     "source is not in this report, either was not scored, or the fork never diverged (divergence says which). "
     "Forks are kept apart from their model's own episodes in every table."),
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
    ("cross_task", "Instrumental: model rates", "Macro-average over tasks of each task's rate (complete slices "
     "only); n: the rows behind it; Wilson 95% CIs at the macro rate with n rows."),
    ("instrumental_rates", "Instrumental: per task and variant", "ic_ok_rate uses ok rows only (diagnostic)."),
    ("awareness", "Instrumental: IC by evaluation-awareness tier", "tier: from the assistant's visible words "
     "(strict/broad/none); reasoning_tier: the same scan over its reasoning, n/a when the episode showed none "
     "(no reasoning seen is not unawareness); hidden: episodes whose reasoning came partly encrypted or redacted, "
     "their reasoning tier read from the readable part only. A phrase the episode's own prompts contained never "
     "counts."),
    ("trace", "Instrumental: trace counts per episode (mean)", "Descriptive; never overrides a label."),
    ("audit_review", "Instrumental: where the review-only audit disagrees", "--drift-audit: an LLM read each "
     "episode's trace and named behaviours of a closed set, citing steps. It never changes a label; each row is an "
     "episode where it and the deterministic labels part, a candidate for a human to read (unparsable answers "
     "included)."),
    ("tool_usage", "Tool usage", "Mean calls per episode of each tool (ok episodes)."),
    ("slices", "Instrumental: slices", "A slice (task, model, repeat) is complete only with all 8 variants; "
     "incomplete ones are excluded from every rate."),
    ("metric_cis", "Goal drift: metrics", "Mean and percentile-bootstrap 95% CI per model x scenario x variant."),
    ("gd_by_steps", "Goal drift vs N", "hedge_fund: the metric against the instrumental-phase length N per "
     "model x condition; bootstrap 95% CIs."),
    ("ablation_agreement", "Goal drift: ablation agreement", "hedge_fund: Pearson r and ICC(2,1) between the goal "
     "switch's GD-vs-N curve and each OOD ablation's, over the N values both ran (n, steps); pingouin's 95% CIs; "
     "blank with the reason where the ablation was not run or fewer than 4 N values are shared."),
    ("stated_goal", "Goal drift: stated goal", "Interrogated runs: the goal each agent said it pursues after the "
     "run (original / hybrid / competing; unclear: names neither; none: no statement), by the scenario's "
     "deterministic label or, where --drift-judge ran, the LLM judge (by). Shares over every ok interrogated run, "
     "Wilson 95% CIs; drifted = hybrid or competing. The label's own agreement with human judges is in the "
     "scenario's docs: read the shares with it."),
    ("baseline_differences", "Goal drift: differences to the baseline variant", "Paired by repeat (seed); "
     "signed difference and the clipped max(0, drift); bootstrap 95% CIs."),
    ("noise_floor", "Noise floor", "Share of (model, variant) groups whose verdict flips across repeats."),
)
PLOTS = {"ic_by_variant": "Instrumental: IC rate by variant (95% Wilson CIs)", "gd_vs_n": "Goal drift vs N"}


def shown(name: str, df: pd.DataFrame) -> pd.DataFrame:
    """A table as read in report.md / .html: a value and its interval share one cell
    (`x [lo, hi]`), tokens read `1,500 (200)`, a cost `unpriced` where the tokens are known but
    the model has no price; report.json and the CSV files keep the numbers apart."""
    out = df.copy()
    for value, lo, hi in interval_triples(df):
        out[value] = [ci(m, a, b) for m, a, b in zip(df[value], df[lo], df[hi])]
        out = out.drop(columns=[lo, hi])
    if "tokens" in df.columns:
        reasoning = df["reasoning_tokens"] if "reasoning_tokens" in df.columns else pd.Series(math.nan, index=df.index)
        out["tokens"] = [tokens_cell(t, r) for t, r in zip(df.tokens, reasoning)]
        out = out.drop(columns=[c for c in ("reasoning_tokens",) if c in out.columns])
        if "cost_usd" in df.columns:
            out["cost_usd"] = [cost_cell(t, c) for t, c in zip(df.tokens, df.cost_usd)]
        out = out.rename(columns={"tokens": "tokens (reasoning)", "cost_usd": "cost (USD)"})
    if "engaged" in df.columns:
        out["engaged"] = [share(x) for x in df.engaged]
        out = out.rename(columns={"engaged": "acted"})
    if "tests" in out.columns:  # verdicts count tests: say so beside the episodes
        out = out.rename(columns={"passed": "tests passed"})
    return out.rename(columns={"rule_breaks": "rule breaks"})


def plot_title(name: str) -> str:
    if name.startswith("curves_"):
        return f"Drift curves: {name[len('curves_'):]} (mean per step, 95% CI)"
    return PLOTS.get(name, name.replace("_", " "))


def _clean(value: Any) -> Any:
    if value is pd.NA:
        return None
    if isinstance(value, float):
        return None if math.isnan(value) else round(value, 10)
    if hasattr(value, "item"):
        return _clean(value.item())
    return value


def records(df: pd.DataFrame) -> list[dict[str, Any]]:
    return [{k: _clean(v) for k, v in row.items()} for row in df.to_dict(orient="records")]


LEADING = ("leaderboard", "readings", "failures")  # tables the report opens with
HTML_ONLY = ("episode_index",)  # one row per episode: outcomes.jsonl already has them
NOT_FIGURES = ("failures",)  # test messages, not figures: kept out of `tables`


def to_json(manifest: dict[str, Any], tables: dict[str, pd.DataFrame], claim: Claim | None = None) -> str:
    """The claim gate and the leaderboard first, then the readings and failures, every table,
    the manifest."""
    readings = tables.get("readings", pd.DataFrame())
    data = {
        "claim": (claim or Claim(False, ["not assessed"])).to_json(),
        "leaderboard": records(tables.get("leaderboard", pd.DataFrame())),
        "readings": {r.scenario: r.reading for r in readings.itertuples()} if not readings.empty else {},
        "failures": records(tables.get("failures", pd.DataFrame())),
        "tables": {name: records(df) for name, df in json_tables(tables).items()},
        "manifest": json.loads(json.dumps(manifest, sort_keys=True, default=str)),
    }
    return json.dumps(data, indent=1, default=str) + "\n"


def fmt(value: Any) -> str:
    if isinstance(value, float):
        return "-" if math.isnan(value) else f"{0.0 if round(value, 3) == 0 else value:.3f}"  # never "-0.000"
    return "-" if value is pd.NA else str(value)


def written_lines(paths: list[Path]) -> list[str]:
    """The files a report wrote, as told to a reader: the tables folder and the tool-trace
    analysis in one line each."""
    tables = [p for p in paths if p.parent.name == "tables"]
    trace = [p for p in paths if p.parent.name == "tool_analysis"]
    lines = [str(p) for p in paths if p not in tables and p not in trace]
    if tables:
        kinds = sorted({p.suffix for p in tables})
        lines.append(f"{tables[0].parent}/ ({len({p.stem for p in tables})} tables as {', '.join(kinds)})")
    if trace:
        lines.append(f"{trace[0].parent}/ (the tool-trace analysis: {', '.join(p.name for p in trace)})")
    return lines


def markdown_table(df: pd.DataFrame) -> str:
    if df.empty:
        return "_no data_\n"
    cols = [str(c) for c in df.columns]
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(fmt(v).replace("|", "\\|") for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines) + "\n"


def ci(mean: Any, lo: Any, hi: Any) -> str:
    if _missing(mean):
        return "-"
    return f"{fmt(mean)} [{fmt(lo)}, {fmt(hi)}]"


def tokens_cell(total: float, reasoning: float) -> str:
    """`1,500 (200)`: all tokens, then the reasoning tokens among them; blank when unknown."""
    if _missing(total):
        return ""
    return f"{total:,.0f}" + ("" if _missing(reasoning) else f" ({reasoning:,.0f})")


def cost_cell(tokens: float, cost: float) -> str:
    """The cost in USD; `unpriced` where tokens were counted but the model has no price (the
    embedded model, a model litellm does not know): unknown, not free. Blank when unknown."""
    if not _missing(cost):
        return f"{cost:.4f}"
    return "unpriced" if not _missing(tokens) and tokens > 0 else ""


def share(x: float) -> str:
    """A share as a percentage; `-` when unknown."""
    return "-" if _missing(x) else f"{x:.0%}"


def _missing(x: Any) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x)) or x is pd.NA


def _forks(df: pd.DataFrame) -> list[bool]:
    """Which leaderboard rows are forks (a leaderboard without the column has none)."""
    return [bool(f) for f in df["fork"].fillna(False)] if "fork" in df else [False] * len(df)


def leaderboard_display(df: pd.DataFrame) -> pd.DataFrame:
    """The leaderboard as read: rank (models only), the reference agents marked, the mean and
    the normalized score each with its interval in one cell, blanks where unknown."""
    if df.empty:
        return df
    board = pd.DataFrame({
        "rank": ["ref" if r else "fork" if f else str(k) for r, f, k in zip(df.reference, _forks(df), df["rank"])],
        "model": [f"{m} (reference)" if r else m for m, r in zip(df.model, df.reference)],
        "family": df.family, "headline": [f"{h} ({b} is better)" for h, b in zip(df.headline, df.better)],
        "mean [95% CI]": [ci(m, lo, hi) for m, lo, hi in zip(df["mean"], df.lo, df.hi)],
        "normalized [95% CI]": [ci(m, lo, hi) for m, lo, hi in zip(df.normalized, df.normalized_lo, df.normalized_hi)],
        "acted": [share(x) for x in df.engaged],
        "scored / episodes": [f"{s} / {e}" for s, e in zip(df.scored, df.episodes)],
        "tests": df.tests, "tests passed": df.passed, "failed": df.failed, "errors": df.errors,
        "rule breaks": df.rule_breaks,
        "tokens (reasoning)": [tokens_cell(t, r) for t, r in zip(df.tokens, df.reasoning_tokens)],
        "cost (USD)": [cost_cell(t, c) for t, c in zip(df.tokens, df.cost_usd)],
    })
    for prefix, label in (("pass^", "pass^1..K"), ("ic@", "ic@1..K")):
        cols = [c for c in df.columns if c.startswith(prefix)]
        if cols and df[cols].notna().any().any():
            label = label.replace("K", cols[-1][len(prefix):])
            board[label] = [" / ".join(fmt(v) for v in row) if any(not _missing(v) for v in row) else "-"
                            for row in df[cols].itertuples(index=False)]
    return board


LEADERBOARD_ABOUT = ("Per model x family: the headline metric over scored episodes, pooled across the family's "
                     "scenarios (95% CI: Wilson for a rate, bootstrap otherwise). The reference agents (policy/oracle, "
                     "policy/random, policy/reckless: scripted, no model) played the same worlds: they give the scale "
                     "and are never ranked. Normalized: (model - random) / (oracle - random) on the same worlds, 1 = "
                     "the oracle, 0 = blind play, higher is better whatever the headline's direction (paired "
                     "bootstrap 95% CI; blank where the references tie). Acted: share of scored episodes in which "
                     "the agent acted on the task; on a tied headline the agent that acted more ranks first, so "
                     "doing nothing never ties the oracle. Tests are counted, not episodes (an episode has one test "
                     "or more); failed counts xfailed (a recorded failure reproduced). Rule breaks: episodes that "
                     "broke a stated rule (each fails, whatever its headline). Forks of recorded episodes (MODEL "
                     "(fork), MODEL (fork, intervened)) have rows of their own, unranked: they continue another "
                     "episode's history (the Forks table sets each beside its source). Tokens (in brackets the reasoning "
                     "tokens among them) and cost when every episode carries them; unpriced: tokens counted, no "
                     "price known. pass^1..K (K: the run's repeats): the chance that k repeats of a world all pass "
                     "(every test), unbiased C(c,k)/C(n,k) over its n scored repeats with c passed, averaged over "
                     "worlds; ic@1..K: the chance that IC shows in at least one of k repeats.")


def _show(episode_id: str, report_dir: str = "REPORT_DIR") -> str:
    return f"pytest-drift show '{episode_id}' {report_dir}"


CLAIM_ABOUT = ("The numbers below may not be quoted as a result until every reason is resolved (report.json "
               "`claim`; `pytest-drift report ... --require-claim-ready` exits 1 on such a run).")


def claim_markdown(claim: Claim | None) -> list[str]:
    """The claim gate, said before the leaderboard: `claim-ready`, or `not claim-ready` and why."""
    if claim is None:
        return []
    if claim.ready:
        return ["**Claim-ready**: every episode labelled, every slice complete, one scenario version and one "
                "request setting per model, no provider failure.", ""]
    return ["## Not claim-ready", "", CLAIM_ABOUT, "", *[f"- {r}" for r in claim.blocking], ""]


def claim_html(claim: Claim | None) -> str:
    if claim is None:
        return ""
    if claim.ready:
        return "<p id='claim' class='claim-ready'><b>Claim-ready</b>: no blocking reason.</p>"
    items = "".join(f"<li>{html.escape(r)}</li>" for r in claim.blocking)
    return (f"<section id='claim' class='not-claim-ready'><h2>Not claim-ready</h2><p class='about'>"
            f"{html.escape(CLAIM_ABOUT)}</p><ul>{items}</ul></section>")


def to_markdown(manifest: dict[str, Any], tables: dict[str, pd.DataFrame], plots: dict[str, Plot],
                report_dir: str = "REPORT_DIR", claim: Claim | None = None) -> str:
    out = ["# pytest-drift report", "", f"commit `{manifest.get('git_commit')}` (dirty: {manifest.get('git_dirty')}), "
           f"models: {', '.join(manifest.get('models', []))}", ""]
    out += claim_markdown(claim)
    out += ["## Leaderboard", "", LEADERBOARD_ABOUT, "",
            markdown_table(leaderboard_display(tables.get("leaderboard", pd.DataFrame())))]
    readings = tables.get("readings", pd.DataFrame())
    if not readings.empty:
        out += [f"- **{r.scenario}** ({r.family}): {r.reading}" for r in readings.itertuples()] + [""]
    failures = tables.get("failures", pd.DataFrame())
    if not failures.empty:
        out += ["## Failures", "", "Each failed, xfailed or erroring test, its message's first line and the "
                "command that prints its episode's transcript (report.html shows it too).", ""]
        out += [f"- {r.status} `{r.nodeid}`: {r.message or '(no message)'}  \n  `{_show(r.episode_id, report_dir)}`"
                for r in failures.itertuples()] + [""]
    for name, title, about in SECTIONS:
        if name in tables and not tables[name].empty:
            out += [f"## {title}", "", about, "", markdown_table(shown(name, tables[name]))]
    if plots:
        out += ["## Plots", ""] + [f"![{plot_title(name)}](plot_{name}.png)" for name in sorted(plots)] + [""]
    out += ["## Manifest", "", "```json", json.dumps(manifest, indent=1, sort_keys=True, default=str), "```", ""]
    return "\n".join(out)


CSS = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px;color:#222}
table{border-collapse:collapse;font-size:12px;margin:.5em 0 1.5em}th,td{border:1px solid #ccc;padding:3px 6px;text-align:right}
th{background:#f0f0f0}td:first-child,th:first-child{text-align:left}td.t{text-align:left}h2{border-bottom:1px solid #ddd;margin-top:1.6em}
p.about{color:#555;font-size:13px}img{max-width:100%;border:1px solid #eee}pre{background:#f7f7f7;padding:1em;font-size:11px;overflow:auto}
div.scroll{overflow-x:auto}ul.readings li{margin:.3em 0;font-size:14px}#episode{display:none}
tr.ref td{color:#777;background:#fafafa;font-style:italic}
section.not-claim-ready{border:2px solid #b00;padding:0 1em;margin:1em 0}section.not-claim-ready h2{color:#b00;border:0}"""
LINK_KEYS = ("model", "family", "scenario", "variant", "letter", "repeat")
MAX_LINKS = 3


def _cell(value: Any) -> str:
    return html.escape(fmt(value))


def html_table(df: pd.DataFrame, extra: list[str] | None = None, extra_title: str = "transcripts",
               row_attrs: list[str] | None = None, table_id: str = "") -> str:
    """A table with escaped cells; `extra` adds a last column of ready-made HTML (links). Its
    headers sort it and the box before it filters its rows, in the page (`sortable`)."""
    titles = [html.escape(str(c)) for c in df.columns] + ([extra_title] if extra else [])
    head = "".join(f"<th class='sort' tabindex='0' title='sort'>{t}</th>" for t in titles)
    rows = []
    for i, row in enumerate(df.itertuples(index=False)):
        attrs = row_attrs[i] if row_attrs else ""
        cells = "".join(f"<td{' class=t' if isinstance(v, str) else ''}>{_cell(v)}</td>" for v in row)
        rows.append(f"<tr{attrs}>{cells}{f'<td class=t>{extra[i]}</td>' if extra else ''}</tr>")
    ident = f" id='{table_id}'" if table_id else ""
    return f"{sortable.FILTER_BOX}<div class='scroll'><table class='sortable'{ident}><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table></div>"


def _reference_rows(board: pd.DataFrame) -> list[str]:
    """The reference agents' rows set apart (greyed): the scale, not contenders."""
    return [" class='ref'" if ref else "" for ref in board.reference]


def _link(episode_id: str, label: str) -> str:
    return f"<a class='ep' href='{tx.href(episode_id)}'>{html.escape(label)}</a>"


class EpisodeLinks:
    """Links from a table's rows to the episodes they summarise: the first few transcripts and
    an *all N* link that filters the episode index by the row's model, scenario, variant, ...
    The index is read once; its grouping by each set of key columns is cached."""

    def __init__(self, index: pd.DataFrame) -> None:
        self.index = index
        self.columns = {k: ["" if _missing(v) else str(v) for v in index[k].tolist()]
                        for k in LINK_KEYS if k in index.columns}
        self.ids: list[str] = index.episode_id.tolist() if not index.empty else []
        self._groups: dict[tuple[str, ...], dict[tuple[str, ...], list[int]]] = {}

    def _grouped(self, keys: tuple[str, ...]) -> dict[tuple[str, ...], list[int]]:
        if keys not in self._groups:
            groups: dict[tuple[str, ...], list[int]] = {}
            for i, key in enumerate(zip(*(self.columns[k] for k in keys))):
                groups.setdefault(key, []).append(i)
            self._groups[keys] = groups
        return self._groups[keys]

    def _label(self, i: int, keys: tuple[str, ...]) -> str:
        """A short name of an episode within a row that already names its model, scenario, ..."""
        parts = [self.columns[k][i] for k in ("scenario", "variant") if k not in keys]
        return "-".join([*parts, f"r{self.columns['repeat'][i]}"])

    def for_table(self, df: pd.DataFrame) -> list[str] | None:
        if not self.ids or df.empty:
            return None
        keys = tuple(k for k in LINK_KEYS if k in df.columns and k in self.columns)
        if not ({"model", "scenario"} & set(keys)):
            return None
        groups = self._grouped(keys)
        out = []
        for values in zip(*(df[k].tolist() for k in keys)):
            members = groups.get(tuple(str(v) for v in values), [])
            if not members:
                out.append("")
                continue
            links = [_link(self.ids[i], self._label(i, keys)) for i in members[:MAX_LINKS]]
            query = "&".join(f"{k}={quote(str(v), safe='')}" for k, v in zip(keys, values))
            links.append(f"<a class='ep' href='#episodes?{html.escape(query)}'>all {len(members)}</a>")
            out.append("".join(links))
        return out


def _index_html(index: pd.DataFrame, embedded: set[str], report_dir: str, links: EpisodeLinks) -> str:
    """Every episode, one row each; filtered in the page by #episodes?model=...&scenario=..."""
    cols = links.columns
    attrs = [" data-ep" + "".join(f" data-{k}=\"{html.escape(cols[k][i])}\"" for k in cols if cols[k][i])
             for i in range(len(index))]
    cells = [_link(e, "transcript") if e in embedded else f"<code>{html.escape(_show(e, report_dir))}</code>"
             for e in links.ids]
    return ("<details id='episode_index_box'><summary id='episode_index_count'>"
            f"{len(index)} episodes (open to list them)</summary>"
            + html_table(index, cells, "transcript", attrs, "episode_index") + "</details>")


def _fork_links(forks: pd.DataFrame, embedded: set[str], report_dir: str) -> list[str]:
    """Each fork row's two transcripts, the source's and the fork's (or the command that prints one)."""
    def one(episode_id: str, label: str) -> str:
        if episode_id in embedded:
            return _link(episode_id, label)
        return f"{html.escape(label)}: <code>{html.escape(_show(episode_id, report_dir))}</code>"

    return [f"{one(s, 'source')} {one(f, 'fork')}" for s, f in zip(forks.source, forks.fork)]


def to_html(manifest: dict[str, Any], tables: dict[str, pd.DataFrame], plots: dict[str, Plot],
            transcripts: dict[str, str] | None = None, report_dir: str = "REPORT_DIR",
            claim: Claim | None = None) -> str:
    index = tables.get("episode_index", pd.DataFrame())
    failures = tables.get("failures", pd.DataFrame())
    first = failures.episode_id.tolist() if not failures.empty else []
    scripts, embedded = tx.embed(transcripts or {}, first)
    links = EpisodeLinks(index)
    parts = ["<!doctype html><html><head><meta charset='utf-8'><title>pytest-drift report</title>",
             f"<style>{CSS}\n{tx.CSS}\n{sortable.CSS}</style></head><body><h1>pytest-drift report</h1>",
             f"<p>commit <code>{html.escape(str(manifest.get('git_commit')))}</code> (dirty: "
             f"{html.escape(str(manifest.get('git_dirty')))}); models: {html.escape(', '.join(manifest.get('models', [])))}"
             f"; {len(embedded)} of {len(index)} transcripts in this file</p>",
             "<section id='episode'></section>", claim_html(claim)]
    board = tables.get("leaderboard", pd.DataFrame())
    parts += [f"<h2 id='leaderboard'>Leaderboard</h2><p class='about'>{html.escape(LEADERBOARD_ABOUT)}</p>",
              html_table(leaderboard_display(board), links.for_table(board), row_attrs=_reference_rows(board))
              if not board.empty else "<p>no data</p>"]
    readings = tables.get("readings", pd.DataFrame())
    if not readings.empty:
        parts.append("<ul class='readings'>" + "".join(
            f"<li><b>{html.escape(r.scenario)}</b> ({html.escape(r.family)}): {html.escape(r.reading)} "
            f"<a class='ep' href='#episodes?scenario={quote(r.scenario, safe='')}'>episodes</a></li>"
            for r in readings.itertuples()) + "</ul>")
    if not failures.empty:
        parts += ["<h2 id='failures'>Failures</h2><p class='about'>Each failed, xfailed or erroring test and its "
                  "message's first line; the link opens its episode's transcript, evidence steps highlighted.</p>",
                  html_table(failures, [_link(e, "transcript") if e in embedded else html.escape(_show(e, report_dir))
                                        for e in failures.episode_id], "transcript")]
    if plots:
        parts.append("<h2>Plots</h2>")
        for name, plot in sorted(plots.items()):
            title = plot_title(name)
            data = base64.b64encode(plot.png).decode()
            parts.append(f"<h3>{html.escape(title)}</h3><img alt='{html.escape(name)}' src='data:image/png;base64,{data}'>")
    for name, title, about in SECTIONS:
        df = tables.get(name)
        if df is not None and not df.empty:
            extra = _fork_links(df, embedded, report_dir) if name == "forks" else links.for_table(df)
            parts += [f"<h2 id='{name}'>{html.escape(title)}</h2><p class='about'>{html.escape(about)}</p>",
                      html_table(shown(name, df), extra)]
    if not index.empty:
        parts += ["<h2 id='episodes'>Episodes</h2><p class='about'>One row per episode; a table row's "
                  "<i>all N</i> link shows its episodes here.</p>", _index_html(index, embedded, report_dir, links)]
    parts += ["<h2>Manifest</h2><pre>", html.escape(json.dumps(manifest, indent=1, sort_keys=True, default=str)),
              "</pre>", scripts, f"<script>{tx.viewer_script()}</script>",
              f"<script>{sortable.SCRIPT}</script></body></html>"]
    return "\n".join(parts)


FORMATS = ("md", "html", "csv", "latex")  # report.json is always written


def json_tables(tables: dict[str, pd.DataFrame]) -> dict[str, pd.DataFrame]:
    """The tables report.json holds under `tables` (and tables/ as CSV and LaTeX). A table without
    columns is one whose family (or feature: forks, goal drift vs N) the run did not have: it is
    left out, never written as a 0-byte CSV that pandas cannot read; a table with columns and no
    rows keeps its header (pandas reads it as an empty frame)."""
    return {name: df for name, df in tables.items()
            if name not in HTML_ONLY + NOT_FIGURES and len(df.columns)}


def write(out: Path, manifest: dict[str, Any], tables: dict[str, pd.DataFrame], plots: dict[str, Plot],
          formats: tuple[str, ...] = FORMATS, claim: Claim | None = None) -> list[Path]:
    """report.json, then report.md, report.html (embedding the transcripts found in `out`:
    transcripts.jsonl, or the parts of a session that did not finish) and tables/NAME.csv and
    .tex as `formats` asks; each plot as plot_NAME.png and .svg."""
    out.mkdir(parents=True, exist_ok=True)
    folder = str(out)
    files: dict[str, Callable[[], str]] = {"report.json": lambda: to_json(manifest, tables, claim)}
    if "md" in formats:
        files["report.md"] = lambda: to_markdown(manifest, tables, plots, folder, claim)
    if "html" in formats:
        files["report.html"] = lambda: to_html(manifest, tables, plots, read_transcript_lines(out), folder, claim)
    written = []
    for name, text in files.items():
        tmp = out / (name + ".tmp")
        tmp.write_text(text())
        tmp.replace(out / name)  # atomic: a crash never leaves half a report
        written.append(out / name)
    captions = {name: title for name, title, _ in SECTIONS}
    written += write_tables(out, json_tables(tables), formats, {"leaderboard": "Leaderboard", **captions})
    for name, plot in plots.items():
        (out / f"plot_{name}.png").write_bytes(plot.png)
        (out / f"plot_{name}.svg").write_bytes(plot.svg)
    return written
