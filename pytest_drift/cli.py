"""The `pytest-drift` command: list scenarios, and summarise outcomes from CI artifacts."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .stream import load_records, write_jsonl
from .summary import format_table, summarise


def _list(_: argparse.Namespace) -> int:
    from scenarios import builtin_scenarios

    from .registry import build_registry, from_entry_points
    from .runner import policy_names

    for sc in build_registry([builtin_scenarios(), from_entry_points()]).values():
        print(f"{sc.name} [{sc.family}] - {sc.description}")
        print(f"  variants: {', '.join(v.name + ('' if v.in_default_run else ' (diagnostic)') for v in sc.variants)}")
        print(f"  policies: {', '.join('policy/' + p for p in policy_names(sc))}")
    return 0


def _report(args: argparse.Namespace) -> int:
    try:
        records = load_records(Path(p) for p in args.files)
    except (FileNotFoundError, ValueError) as exc:
        print(f"pytest-drift report: {exc}", file=sys.stderr)
        return 2
    if not records:
        print("pytest-drift report: no pytest-drift outcomes in those files "
              "(junit needs junit_family=legacy)", file=sys.stderr)
        return 1
    print(format_table(summarise(records)))
    if args.output:
        write_jsonl(records, Path(args.output) / "outcomes.jsonl")
        print(f"outcomes: {Path(args.output) / 'outcomes.jsonl'}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="pytest-drift", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="list scenarios, variants and reference policies").set_defaults(func=_list)
    rep = sub.add_parser("report", help="summarise outcomes from junit XML and/or outcomes.jsonl files")
    rep.add_argument("files", nargs="+", help="junit .xml (junit_family=legacy) or outcomes .jsonl files")
    rep.add_argument("-o", "--output", metavar="DIR", help="also write the merged DIR/outcomes.jsonl")
    rep.set_defaults(func=_report)
    args = parser.parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    raise SystemExit(main())
