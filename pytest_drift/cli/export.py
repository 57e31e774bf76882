"""`export`: a report directory's episodes as Inspect AI logs, or its tables as CSV or LaTeX."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

def _export(args: argparse.Namespace) -> int:
    if args.format in ("csv", "latex"):
        return _export_tables(args)
    return _export_inspect(args)


def _export_tables(args: argparse.Namespace) -> int:
    """Every table of DIR/report.json as OUT/NAME.csv or OUT/NAME.tex (the report's own tables/
    folder holds both already; this writes them where a paper's sources live)."""
    import json

    import pandas as pd

    from ..report.export import write_tables
    from ..report.render import SECTIONS

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

    from ..records import read_jsonl, read_transcript_lines

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
    from ..report.inspect_log import export, transcripts_of

    records = read_jsonl(folder / "outcomes.jsonl")
    report = folder / "report.json"
    manifest = json.loads(report.read_text()).get("manifest", {}) if report.is_file() else {}
    lines = read_transcript_lines(folder)
    if not lines:  # outcomes without transcripts beside them: rebuild from the cassettes
        from ..engine.transcript import collect_transcripts

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


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
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
