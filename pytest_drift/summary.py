"""The end-of-run table: per model x scenario, episodes, test verdicts and the headline metric."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

from .stream import TestRecord


@dataclass(frozen=True)
class SummaryRow:
    model: str
    scenario: str
    episodes: int
    passed: int
    failed: int
    errors: int
    headline: str
    headline_mean: float | None


def summarise(records: Iterable[TestRecord]) -> list[SummaryRow]:
    groups: dict[tuple[str, str], list[TestRecord]] = {}
    for rec in records:
        if rec.outcome is not None:
            groups.setdefault((rec.outcome.model, rec.outcome.scenario), []).append(rec)
    rows = []
    for (model, scenario), recs in sorted(groups.items()):
        episodes = {r.outcome.episode_id: r.outcome for r in recs if r.outcome}
        ok = [o for o in episodes.values() if o.label_status == "ok"]
        headline = next((o.headline for o in episodes.values() if o.headline), "")
        values = [float(o.metrics[headline]) for o in ok if isinstance(o.metrics.get(headline), (int, float))]
        rows.append(SummaryRow(
            model, scenario, len(episodes),
            passed=sum(r.status in ("passed", "xpassed") for r in recs),
            failed=sum(r.status in ("failed", "xfailed") for r in recs),
            errors=sum(r.status == "error" for r in recs),
            headline=headline, headline_mean=sum(values) / len(values) if values else None,
        ))
    return rows


def format_table(rows: list[SummaryRow]) -> str:
    header = ("model", "scenario", "episodes", "passed", "failed", "errors", "headline (mean)")
    body = [(r.model, r.scenario, str(r.episodes), str(r.passed), str(r.failed), str(r.errors),
             f"{r.headline} {r.headline_mean:.3f}" if r.headline_mean is not None else f"{r.headline} -")
            for r in rows]
    widths = [max(len(x) for x in col) for col in zip(header, *body)]
    line = lambda cells: "  ".join(c.ljust(w) for c, w in zip(cells, widths)).rstrip()  # noqa: E731
    return "\n".join([line(header), *(line(b) for b in body)])
