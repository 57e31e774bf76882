"""The claim gate: may a paper quote this run's numbers? `report.json` carries
`claim: {"ready": bool, "blocking": [reasons]}`; report.md and report.html say "not claim-ready"
with the reasons before the leaderboard; `pytest-drift report ... --require-claim-ready` exits 1
when it is not ready.

A run is claim-ready only when none of these holds (each is one blocking reason):

- `unknown`: episodes without a label (a provider error, a cassette miss: nothing was measured);
- `invalid`: episodes whose evidence the world itself does not trust;
- `provider`: a model with provider failures (any episode ended in a provider error);
- `incomplete_slices`: instrumental slices (model, task, repeat) without all eight benchmark
  variants A-H (the paper's rule: such a slice is excluded, and the rates lose rows);
- `missing_variants`: a (model, scenario, repeat) that lacks a variant or a repeat the run
  played for the same scenario elsewhere (the run's own plan: every model plays every selected
  world);
- `scenario_hash`: merged inputs (CI shards, several junit files) ran different versions of a
  scenario (the merged manifest keeps each value);
- `request_settings`: one model's episodes sent different request settings, or an episode's
  cassette was recorded under other settings than the run asked for.

The gate reads outcomes and the manifest only; it never changes a figure.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from .frames import Frames

BENCHMARK_LETTERS = tuple("ABCDEFGH")
MAX_LISTED = 6  # names listed in one reason before "and N more"


@dataclass
class Claim:
    ready: bool
    blocking: list[str] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def _listed(items: list[str]) -> str:
    head = ", ".join(items[:MAX_LISTED])
    return head + (f" and {len(items) - MAX_LISTED} more" if len(items) > MAX_LISTED else "")


def _per_model(ep: pd.DataFrame) -> str:
    return _listed([f"{m}: {n}" for m, n in ep.groupby("model", sort=True).size().items()])


def _labels(ep: pd.DataFrame) -> list[str]:
    out = []
    for status in ("unknown", "invalid"):
        bad = ep[ep.label_status == status]
        if not bad.empty:
            out.append(f"{len(bad)} of {len(ep)} episodes labelled {status} ({_per_model(bad)})")
    return out


def _provider(ep: pd.DataFrame) -> list[str]:
    failed = ep[ep.termination == "provider_error"]
    if failed.empty:
        return []
    return [f"provider failures: {len(failed)} episodes ended in a provider error ({_per_model(failed)})"]


def _incomplete_slices(ep: pd.DataFrame) -> list[str]:
    if "letter" not in ep:
        return []
    ic = ep[ep.family == "instrumental"]
    present: dict[tuple[str, str, int], set[str]] = {}
    for model, task, rep, letter in zip(ic.model, ic.scenario, ic.repeat, ic.letter):
        present.setdefault((model, task, int(rep)), set()).add(letter)
    gaps = []
    for (model, task, rep), letters in sorted(present.items()):
        missing = [L for L in BENCHMARK_LETTERS if L not in letters]
        if missing:
            gaps.append(f"{model} {task} r{rep} lacks {''.join(missing)}")
    if not gaps:
        return []
    return [f"{len(gaps)} incomplete instrumental slices (all eight variants A-H needed): {_listed(gaps)}"]


def _missing_variants(ep: pd.DataFrame) -> list[str]:
    """Per scenario, the run's plan is every variant it played (for any model, in any repeat) in
    every repeat it played: repeats are parametrised over every selected world. A model that
    played the scenario but lacks one of them misses it."""
    played: dict[str, dict[str, set[tuple[str, int]]]] = {}
    for scenario, model, variant, rep in zip(ep.scenario, ep.model, ep.variant, ep.repeat):
        played.setdefault(scenario, {}).setdefault(model, set()).add((variant, int(rep)))
    gaps = []
    for scenario, by_model in sorted(played.items()):
        seen_all = set().union(*by_model.values())
        plan = {(v, r) for v in {v for v, _ in seen_all} for r in {r for _, r in seen_all}}
        for model, seen in sorted(by_model.items()):
            for variant, rep in sorted(plan - seen):
                gaps.append(f"{model} {scenario} {variant} r{rep}")
    if not gaps:
        return []
    return [f"{len(gaps)} planned episodes missing (a variant and a repeat the run played for the scenario): "
            f"{_listed(gaps)}"]


def _hashes(manifest: dict[str, Any]) -> list[str]:
    """merge_manifests keeps a value the inputs disagree on as the list of their values."""
    split = sorted(name for name, h in (manifest.get("scenario_hashes") or {}).items() if isinstance(h, list))
    if not split:
        return []
    return [f"scenario hashes differ between the merged inputs: {_listed(split)} (different versions of the "
            "scenario were run)"]


def _requests(ep: pd.DataFrame, manifest: dict[str, Any]) -> list[str]:
    out = []
    mixed = sorted(m for m, r in (manifest.get("requests") or {}).items() if isinstance(r, list))
    if "request" in ep:
        mixed = sorted({*mixed, *(str(m) for m, g in ep.dropna(subset=["request"]).groupby("model")
                                  if g.request.nunique() > 1)})
    if mixed:
        out.append(f"one model's episodes sent different request settings: {_listed(mixed)}")
    if "label_reason" in ep:
        other = ep[ep.label_reason.fillna("").str.contains("recorded under other request settings", regex=False)]
        if not other.empty:
            out.append(f"{len(other)} cassettes were recorded under other request settings than this run's "
                       f"({_per_model(other)})")
    return out


def claim(fr: Frames, manifest: dict[str, Any] | None = None) -> Claim:
    """Whether the run's numbers may be claimed, and every reason why not (module docstring)."""
    ep = fr.episodes
    if ep.empty:
        return Claim(False, ["no episodes"])
    m = manifest or {}
    blocking = [*_labels(ep), *_provider(ep), *_incomplete_slices(ep), *_missing_variants(ep), *_hashes(m),
                *_requests(ep, m)]
    return Claim(not blocking, blocking)
