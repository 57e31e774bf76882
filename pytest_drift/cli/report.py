"""`report` and `compare`: the drift report rendered from CI artifacts, and two runs side by side."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..records import write_jsonl

if TYPE_CHECKING:
    from ..outcome import Outcome
    from ..records import TestRecord
    from ..report import Frames


def _report(args: argparse.Namespace) -> int:
    from ..report.junit import load_records

    try:
        records = load_records(Path(p) for p in args.files)
    except (FileNotFoundError, ValueError) as exc:
        print(f"pytest-drift report: {exc}", file=sys.stderr)
        return 2
    if not records:
        print("pytest-drift report: no pytest-drift outcomes in those files "
              "(junit needs junit_family=legacy)", file=sys.stderr)
        return 1
    from ..report import frames_from_records, summary_text

    frames = frames_from_records(records)
    print(summary_text(frames))
    code = _write_report(args, records) if args.output else 0
    return code or _claim_gate(args, frames, [Path(p) for p in args.files])


def _claim_gate(args: argparse.Namespace, frames: Frames, files: list[Path]) -> int:
    """Say whether the run is claim-ready (report.claim); exit 1 when it is not and
    --require-claim-ready asked for it."""
    from ..report import claim

    verdict = claim(frames, _recorded_manifest(files))
    if verdict.ready:
        print("claim-ready: no blocking reason")
        return 0
    stream = sys.stderr if args.require_claim_ready else sys.stdout
    print("not claim-ready:", file=stream)
    for reason in verdict.blocking:
        print(f"  - {reason}", file=stream)
    return 1 if args.require_claim_ready else 0


def _write_report(args: argparse.Namespace, records: list[TestRecord]) -> int:
    """outcomes.jsonl, transcripts.jsonl and the report into args.output, with the session's
    own manifest where the inputs recorded it and the reference agents played here."""
    from ..engine.transcript import collect_transcripts
    from ..records import TRANSCRIPTS, write_transcript_lines
    from ..report import build_report, frames_from_records

    out, files = Path(args.output), [Path(p) for p in args.files]
    lines, counts = collect_transcripts(records, files, Path(args.root))
    try:
        write_jsonl(records, out / "outcomes.jsonl")
        write_transcript_lines(lines, out / TRANSCRIPTS)
    except OSError as exc:
        print(f"pytest-drift report: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    recorded = _recorded_manifest(files)
    references = [] if args.no_references else _play_references(records, recorded, Path(args.root))
    frames = frames_from_records(records, references)
    manifest = recorded or _fresh_manifest(frames, args.files, out)
    if recorded:  # the session's manifest, as it recorded it; what made this rendering, apart
        manifest = {**manifest, "rendered_by": " ".join(["pytest-drift", "report", *args.files, "-o", str(out)])}
    try:
        written = build_report(frames, manifest, with_plots=not args.no_plots).write(out, formats=_formats(args))
    except OSError as exc:
        print(f"pytest-drift report: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    print(f"wrote {out / 'outcomes.jsonl'}")
    print(f"wrote {out / TRANSCRIPTS} ({counts['kept']} kept beside the outcomes, {counts['rebuilt']} rebuilt "
          f"from cassettes, {counts['missing']} without one: scripted policies are not recorded)")
    from ..report.render import written_lines

    for line in written_lines(written):
        print(f"wrote {line}")
    return 0


def _recorded_manifest(files: list[Path]) -> dict[str, Any]:
    """The session's manifest: recorded in its junit files (shards merged), or the report.json
    beside an outcomes.jsonl; {} when neither has one."""
    import json

    from ..report.junit import junit_manifests, merge_manifests

    found = junit_manifests(files)
    for path in files:
        beside = path.parent / "report.json"
        if path.suffix == ".jsonl" and beside.is_file():
            try:
                found.append(json.loads(beside.read_text()).get("manifest") or {})
            except ValueError:
                continue
    return merge_manifests([m for m in found if m])


def _fresh_manifest(frames: Frames, files: list[str], out: Path) -> dict[str, Any]:
    from ..report import manifest_for

    return manifest_for(frames, Path.cwd(), {"inputs": " ".join(files)},
                        command=["pytest-drift", "report", *files, "-o", str(out)],
                        scenario_hashes=_installed_hashes(frames))


def _play_references(records: list[TestRecord], manifest: dict[str, Any], root: Path) -> list[Outcome]:
    """The reference agents on the outcomes' worlds, at the run's --drift-seed and cassette
    directory when the manifest names them (else 0 and ROOT/cassettes)."""
    from ..engine.references import play_references, reference_settings
    from ..registry import load_scenarios

    options = manifest.get("options") or {}
    seed = _int(options.get("drift_seed"), 0)
    cassettes = options.get("drift_cassette_dir")
    cassette_dir = Path(cassettes) if isinstance(cassettes, str) and cassettes not in ("", "None") else root / "cassettes"
    refs = play_references([r.outcome for r in records if r.outcome is not None], load_scenarios(),
                           reference_settings(cassette_dir, seed))
    print(f"references: {refs.summary()} (--no-references skips them)")
    return refs.outcomes


def _run_files(run: str) -> list[Path]:
    """A run's files: a report directory's outcomes.jsonl (else every junit .xml in it), or
    the file itself (an outcomes .jsonl or a junit .xml)."""
    path = Path(run)
    if path.is_dir():
        outcomes = path / "outcomes.jsonl"
        return [outcomes] if outcomes.is_file() else sorted(path.glob("*.xml"))
    return [path]


def _compare(args: argparse.Namespace) -> int:
    """Exit 0, or 1 when --max-drop is given and a cell regressed significantly by more than it;
    2 when a run cannot be read or holds no outcomes."""
    from ..report import frames_from_records
    from ..report.compare import compare, render
    from ..report.junit import load_records

    runs = []
    for run in (args.run_a, args.run_b):
        files = _run_files(run)
        try:
            records = load_records(files)
        except (FileNotFoundError, ValueError) as exc:
            print(f"pytest-drift compare: {exc}", file=sys.stderr)
            return 2
        if not records:
            print(f"pytest-drift compare: no pytest-drift outcomes in {run} (a --drift-report directory, an "
                  "outcomes.jsonl or junit XML written with junit_family=legacy)", file=sys.stderr)
            return 2
        runs.append((frames_from_records(records), _recorded_manifest(files)))
    (fa, ma), (fb, mb) = runs
    result = compare(fa, fb, ma, mb, alpha=args.alpha)
    print(render(result, args.format), end="" if args.format in ("csv", "json", "md") else "\n")
    if args.max_drop is None:
        return 0
    worse = result.regressions(args.max_drop)
    for r in worse.itertuples(index=False):
        print(f"regression: {r.scenario} {r.model}: {r.headline} dropped by {r.drop:.3f} (> {args.max_drop}; "
              f"Holm p {r.p_holm:.4f})", file=sys.stderr)
    return 1 if len(worse) else 0


def _int(value: object, default: int) -> int:
    try:
        return int(str(value))
    except ValueError:
        return default


def _formats(args: argparse.Namespace) -> tuple[str, ...]:
    from ..report.render import FORMATS

    return tuple(args.format) if args.format else FORMATS


def _installed_hashes(frames: Any) -> dict[str, str]:
    """Hashes of the scenarios as installed now (the run's own overrides are not known here)."""
    from ..registry import load_scenarios, scenario_hashes

    ep = frames.episodes
    return scenario_hashes(load_scenarios(), [] if ep.empty else ep.scenario.unique().tolist())


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    rep = sub.add_parser("report", help="summarise outcomes from junit XML and/or outcomes.jsonl files")
    rep.add_argument("files", nargs="+", help="junit .xml (junit_family=legacy) or outcomes .jsonl files")
    rep.add_argument("-o", "--output", metavar="DIR",
                     help="write DIR/report.json, report.md, report.html (plots embedded) and the merged outcomes.jsonl")
    rep.add_argument("--no-plots", action="store_true", help="skip the plots (faster)")
    rep.add_argument("--root", default=".", metavar="DIR",
                     help="where the outcomes' cassette paths start (the project root; default: here)")
    rep.add_argument("--no-references", action="store_true",
                     help="do not play the reference agents (policy/oracle, random, reckless) on the outcomes' worlds")
    rep.add_argument("--format", action="append", choices=["md", "html", "csv", "latex"], metavar="FORMAT",
                     help="outputs beside report.json (repeatable): md, html, csv (tables/NAME.csv), latex "
                          "(tables/NAME.tex); default: all")
    rep.add_argument("--require-claim-ready", action="store_true",
                     help="exit 1 when the run is not claim-ready (unlabelled episodes, incomplete slices, missing "
                          "variants, differing scenario hashes, provider failures, other request settings); the "
                          "reasons go to stderr")
    rep.set_defaults(func=_report)
    cmp = sub.add_parser("compare", help="compare two runs: per scenario and model the headline's change with "
                                          "a CI and a test (Holm), flipped verdicts, manifest differences")
    cmp.add_argument("run_a", metavar="RUN_A", help="the baseline: a report directory, an outcomes.jsonl or a junit .xml")
    cmp.add_argument("run_b", metavar="RUN_B", help="the run compared with it (same kinds)")
    cmp.add_argument("--format", choices=["text", "md", "csv", "json"], default="text",
                     help="text (default), md, csv (one row per scenario x model) or json (everything)")
    cmp.add_argument("--max-drop", type=float, default=None, metavar="D",
                     help="exit 1 when a scenario x model got significantly worse (Holm p < alpha) by more than D "
                          "headline units; without it the exit code is 0")
    cmp.add_argument("--alpha", type=float, default=0.05, help="significance level after Holm (0.05)")
    cmp.set_defaults(func=_compare)
