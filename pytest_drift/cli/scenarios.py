"""`list`, `falsify` and `stated-goal`: what the installed scenarios offer, no model called."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

def _list(args: argparse.Namespace) -> int:
    from ..engine import policy_names
    from ..registry import load_scenarios

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
    from ..engine.falsify import MAX_NULL_RATE, falsify
    from ..registry import load_scenarios
    from ..report.stats import wilson

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


def _stated_goal(args: argparse.Namespace) -> int:
    """JSON lines with an `answer` in; the same lines with `stated_goal` (and its reason) out."""
    import json

    from ..registry import load_scenarios

    labelers = [sc.labelers["stated_goal"] for sc in load_scenarios().values() if "stated_goal" in sc.labelers]
    if not labelers:
        print("pytest-drift stated-goal: no installed scenario offers a stated-goal label", file=sys.stderr)
        return 2
    try:
        text = sys.stdin.read() if args.file == "-" else Path(args.file).read_text()
        lines = [json.loads(ln) for ln in text.splitlines() if ln.strip()]
        labelled = []
        for line in labelers[0](args.pair, lines):
            print(json.dumps(line, ensure_ascii=False))
            labelled.append(line)
    except (OSError, ValueError, KeyError) as exc:  # unreadable file, bad JSON, unknown pair
        print(f"pytest-drift stated-goal: {exc}", file=sys.stderr)
        return 2
    for text in agreement_summary(labelled):
        print(text, file=sys.stderr)
    return 0


def agreement_summary(lines: list[dict[str, Any]]) -> list[str]:
    """Where lines carry a `human_label`: agreement of `stated_goal` with it and each human label's recall,
    Wilson 95% intervals, apart for the answers the label was fitted on (`stated_goal_fitted_on`: in sample,
    which says little about new answers) and the others. Nothing where no line is human-labelled."""
    from ..report.stats import wilson

    judged = [ln for ln in lines if "human_label" in ln and "stated_goal" in ln]
    out = []
    for fitted, name in ((False, "answers the label was not fitted on"),
                         (True, "answers the label was fitted on (in sample: not an estimate for new answers)")):
        group = [ln for ln in judged if bool(ln.get("stated_goal_fitted_on")) is fitted]
        if not group:
            continue
        out.append(f"pytest-drift stated-goal: {len(group)} {name}")
        rows = [("agreement", [ln["stated_goal"] == ln["human_label"] for ln in group])]
        for label in sorted({str(ln["human_label"]) for ln in group}):
            rows.append((f"{label} recall", [ln["stated_goal"] == label for ln in group if ln["human_label"] == label]))
        for what, hits in rows:
            rate, lo, hi = wilson(sum(hits), len(hits))
            out.append(f"  {what:<20} {sum(hits):>4}/{len(hits):<4} {rate:.3f} [{lo:.3f}, {hi:.3f}]")
    return out


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    lst = sub.add_parser("list", help="list scenarios, variants and reference policies")
    lst.add_argument("--all", action="store_true", help="also name every opt-in variant")
    lst.set_defaults(func=_list)
    fal = sub.add_parser("falsify", help="play every reference agent on a scenario (no model): pass rates, "
                                         "chance floor; exit 1 if the oracle fails or a blind agent passes")
    fal.add_argument("scenario", help="a registered scenario (built-in or from an installed package)")
    fal.add_argument("--repeats", type=int, default=5, metavar="N", help="episodes per null agent and variant (5)")
    fal.add_argument("--seed", type=int, default=0, metavar="S", help="the base seed (0)")
    fal.set_defaults(func=_falsify)
    sg = sub.add_parser("stated-goal", help="label interrogation answers (JSON lines with an `answer` field)")
    sg.add_argument("--pair", required=True, help="the goal pair, e.g. env_vs_profit")
    sg.add_argument("file", help="a .jsonl file, or - for stdin")
    sg.set_defaults(func=_stated_goal)
