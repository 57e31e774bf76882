"""Drift reports: outcomes -> pandas DataFrames -> report.json, report.md, report.html.

    from pytest_drift.report import load_frames, build_report
    frames = load_frames(["junit.xml"])          # or outcomes.jsonl; CI shards merge
    report = build_report(frames)
    report.tables["rates_by_variant"]            # DataFrames
    report.write("out/")
"""

from __future__ import annotations

import json

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

import pandas as pd

from . import ablation, goal_drift, instrumental, leaderboard, plots, render, tables, tool_analysis
from .claim import Claim, claim
from .frames import Frames, frames_from_records, load_frames
from .manifest import build_manifest


@dataclass
class Report:
    tables: dict[str, pd.DataFrame]
    plots: dict[str, plots.Plot]
    manifest: dict[str, Any] = field(default_factory=dict)
    claim: Claim = field(default_factory=lambda: Claim(False, ["not assessed"]))
    frames: Frames | None = None  # what the tool-trace analysis reads (its rules per task)
    tool_analysis: dict[str, pd.DataFrame] = field(default_factory=dict)  # DIR/tool_analysis/*.csv

    def to_json(self) -> str:
        return render.to_json(self.manifest, self.tables, self.claim)

    def write(self, out: Path | str, formats: tuple[str, ...] = render.FORMATS) -> list[Path]:
        """report.json, and what `formats` asks for: md, html, csv and latex (tables/NAME.*)."""
        written = render.write(Path(out), self.manifest, self.tables, self.plots, formats, self.claim)
        if self.frames is not None:  # runs with instrumental episodes: DIR/tool_analysis/
            written += tool_analysis.write(Path(out), self.frames, self.tool_analysis, self.claim)
        return written


def compute_tables(fr: Frames) -> dict[str, pd.DataFrame]:
    summary = tables.summary(fr)
    # a family's own table only when the run has the family: no empty file for what it never played
    gd = goal_drift.gd_by_steps(fr) if _has_family(fr, "goal_drift") else pd.DataFrame()
    return {
        "leaderboard": leaderboard.leaderboard(fr),
        "readings": leaderboard.readings(fr, summary),
        "failures": leaderboard.failures(fr),
        "summary": summary,
        "references": tables.references(fr),
        "forks": tables.forks(fr),
        **instrumental.tables(fr),
        "audit_review": tool_analysis.audit_review(fr),
        "tool_usage": tables.tool_usage(fr),
        "metric_cis": tables.metric_cis(fr),
        "gd_by_steps": gd,
        "ablation_agreement": ablation.agreement(gd) if _has_family(fr, "goal_drift") else pd.DataFrame(),
        "stated_goal": goal_drift.stated_goal(fr) if _has_family(fr, "goal_drift") else pd.DataFrame(),
        "baseline_differences": tables.baseline_differences(fr),
        "noise_floor": tables.noise_floor(fr),
        "curves": tables.curves(fr),
        "episode_index": leaderboard.episode_index(fr),
    }


def _has_family(fr: Frames, family: str) -> bool:
    return not fr.episodes.empty and bool((fr.episodes.family == family).any())


def make_plots(t: dict[str, pd.DataFrame], fr: Frames | None = None) -> dict[str, plots.Plot]:
    out: dict[str, plots.Plot] = {}
    if (plot := plots.ic_by_variant(t["rates_by_variant"])) is not None:
        out["ic_by_variant"] = plot
    curves = t["curves"]
    thresholds = _series_thresholds(fr)
    if not curves.empty:
        for scenario, g in curves.groupby("scenario", sort=True):
            series = sorted(g.series.unique())[0]
            threshold = thresholds.get(str(scenario)) if series == "alignment" else None
            if (plot := plots.drift_curves(curves, scenario, series, threshold)) is not None:
                out[f"curves_{scenario}"] = plot
    if (plot := plots.gd_vs_n(t["gd_by_steps"])) is not None:
        out["gd_vs_n"] = plot
    return out


def _series_thresholds(fr: Frames | None) -> dict[str, float]:
    """Per scenario, the threshold its alignment series is read against (one per scenario)."""
    if fr is None or fr.episodes.empty or "series_threshold" not in fr.episodes:
        return {}
    known = fr.episodes.dropna(subset=["series_threshold"])
    return {str(s): float(g.series_threshold.iloc[0]) for s, g in known.groupby("scenario")}


def build_report(fr: Frames, manifest: dict[str, Any] | None = None, with_plots: bool = True) -> Report:
    t = compute_tables(fr)
    audit = tool_analysis.audit_manifest(fr)
    if audit:  # the review-only audit's model and prompt version, beside what produced the outcomes
        manifest = {**(manifest or {}), "audit": audit}
    return Report(tables=t, plots=make_plots(t, fr) if with_plots else {}, manifest=manifest or {},
                  claim=claim(fr, manifest), frames=fr, tool_analysis=tool_analysis.tables(fr))


def manifest_for(fr: Frames, root: Path, options: dict[str, Any], command: list[str] | None = None,
                 scenario_hashes: dict[str, str] | None = None) -> dict[str, Any]:
    ep = fr.episodes
    models = ep.model.unique().tolist() if not ep.empty else []
    scenarios = ep.scenario.unique().tolist() if not ep.empty else []
    cassettes = ep.cassette.dropna().tolist() if "cassette" in ep else []
    manifest = build_manifest(root, models, scenarios, cassettes, options, command, scenario_hashes)
    manifest["requests"] = requests_by_model(ep)
    return manifest


def requests_by_model(ep: Any) -> dict[str, Any]:
    """Per live model, what its requests carried and what was changed from what was asked
    (a list when episodes of one model differ, e.g. runs merged from several junit files)."""
    if ep.empty or "request" not in ep:
        return {}
    out: dict[str, Any] = {}
    for model, g in ep.dropna(subset=["request"]).groupby("model", sort=True):
        seen = [json.loads(r) for r in dict.fromkeys(g.request)]
        out[str(model)] = seen[0] if len(seen) == 1 else seen
    return out


def summary_text(fr: Frames) -> str:
    """The end-of-run terminal table (same aggregation as report.json's `summary`)."""
    df = tables.summary(fr)
    header = ("model", "scenario", "episodes", "tests passed", "failed", "errors", "rule breaks",
              "headline: mean [95% CI]", "acted", "tokens (reasoning)", "cost USD")
    body = [(r.model, r.scenario, str(r.episodes), str(r.passed), str(r.failed), str(r.errors), str(r.rule_breaks),
             f"{r.headline} {render.fmt(r.mean)} [{render.fmt(r.lo)}, {render.fmt(r.hi)}]",
             render.share(r.engaged), render.tokens_cell(r.tokens, r.reasoning_tokens) or "-",
             render.cost_cell(r.tokens, r.cost_usd) or "-")
            for r in df.itertuples(index=False)]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()

    return "\n".join([line(header), *(line(b) for b in body)])


__all__ = ["Claim", "Frames", "Report", "build_report", "compute_tables", "frames_from_records", "load_frames",
           "manifest_for", "summary_text"]
