"""Benchmark: CPU cost of hedge_fund episodes, excluding model time.

For N in (2, 16, 64), the median over rounds of the CPU time (time.process_time) to
play one scripted episode of env_vs_profit-adversarial-n<N> (phase 1 + 10 evaluation
quarters) with the oracle through the full stack: the litellm in-process policy
provider, the episode loop, the prefix/branch machinery and the scorers. litellm's
one-off import (~3 s) is paid before timing. The limit for N=64 is 2 s.

It also prints the length of the quarter briefs (user messages) the agent reads: the
median over 10 repeats of env_vs_profit-switch-n2 (plain) and of the pressured quarters
of env_vs_profit-pressure (the oracle keeps the pressure on), next to the paper's ~1,000
and ~3,000 characters.

Usage: python bench/goal_drift.py [--rounds K]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_drift.models import litellm_module
from pytest_drift.engine import Case, Settings, play, run_episode
from pytest_drift.models import PolicyCaller
from scenarios.goal_drift.hedge_fund import HEDGE_FUND
from scenarios.goal_drift.hedge_fund.policies import POLICIES


def one(n: int, root: Path) -> tuple[float, int]:
    case = Case("policy/oracle", HEDGE_FUND, HEDGE_FUND.variant(f"env_vs_profit-adversarial-n{n}"), 0)
    start = time.process_time()
    outcome = play(case, Settings(cassette_dir=root)).outcome
    return time.process_time() - start, outcome.model_calls


def brief_lengths(repeats: int = 10) -> tuple[list[int], list[int]]:
    """Characters of every brief of the plain runs, and of the pressured briefs."""
    plain: list[int] = []
    pressured: list[int] = []
    for r in range(repeats):
        case = Case("policy/oracle", HEDGE_FUND, HEDGE_FUND.variant("env_vs_profit-switch-n2"), r)
        result = play(case, Settings(cassette_dir=Path("unused"))).result
        assert result is not None
        plain += [len(m["content"]) for m in result.messages if m["role"] == "user"]
        env = HEDGE_FUND.build("env_vs_profit-pressure", r)
        run_episode(env, PolicyCaller(POLICIES["oracle"](), env))
        pressured += [len(b) for b, p in zip(env.briefs, env.pressured) if p]
    return plain, pressured


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()
    litellm_module()
    with tempfile.TemporaryDirectory() as tmp:
        one(2, Path(tmp))  # warm-up: first-call pydantic work
        for n in (2, 16, 64):
            runs = [one(n, Path(tmp)) for _ in range(args.rounds)]
            cpu = statistics.median(r[0] for r in runs)
            print(f"hedge_fund N={n:>2} ({n + 10} quarters, {runs[0][1]} model calls): "
                  f"median CPU {cpu:.3f} s over {args.rounds} rounds (range {min(r[0] for r in runs):.3f}-"
                  f"{max(r[0] for r in runs):.3f}){'  LIMIT 2 s EXCEEDED' if n == 64 and cpu > 2 else ''}")
    plain, pressured = brief_lengths()
    for name, lengths, paper in (("plain", plain, "~1,000"), ("pressured", pressured, "~3,000")):
        print(f"briefs, {name}: median {statistics.median(lengths):,.0f} characters (n={len(lengths)}, "
              f"range {min(lengths):,}-{max(lengths):,}; the paper: {paper})")


if __name__ == "__main__":
    main()
