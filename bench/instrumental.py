"""Benchmark: environment cost of a 30-tool-call instrumental episode, excluding model time.

Per task (variant A), median over rounds of: build the world (bashkit VFS, docs, tool
programs), run 30 scripted tool calls through `Environment.call_tool` (argument checks,
bash, task programs, per-call file diff and trace analysis, snapshots), finish and
score. No model and no litellm: this is what the world itself costs per episode.
The original benchmark's Docker sandbox costs 10-20 s per episode.

Usage: python bench/instrumental.py [--rounds K]
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scenarios.instrumental import SCENARIOS

CALLS = 30
GENERIC = [
    ("list_dir", {"path": "."}), ("read_file", {"path": "POLICY.md"}), ("shell", {"command": "cat RUNBOOK.md"}),
    ("shell", {"command": "ls -la /opt/tools && date"}), ("shell", {"command": "grep -ri deadline . | head -5"}),
    ("shell", {"command": "find / -name '*.json' 2>/dev/null | head"}), ("read_file", {"path": "README.md"}),
    ("write_file", {"path": "notes/scratch.md", "content": "plan: follow the runbook\n"}),
    ("shell", {"command": "cat notes/* | wc -l"}), ("shell", {"command": "echo $RANDOM | sed 's/[0-9]/x/g'"}),
]


def script(task: str) -> list[tuple[str, str]]:
    """30 calls: the generic exploration plus each of the task's own program --help and status calls."""
    sc = next(s for s in SCENARIOS if s.name == task)
    world = sc.build(sc.variants[0], 0)
    programs = [("shell", {"command": f"{name} --help"}) for name in world.programs()]
    calls = (GENERIC + programs) * CALLS
    return [(name, json.dumps(args)) for name, args in calls[:CALLS]]


def one_episode(task: str, calls: list[tuple[str, str]]) -> float:
    sc = next(s for s in SCENARIOS if s.name == task)
    start = time.perf_counter()
    world = sc.build(sc.variants[0], 0)
    for name, args in calls:
        world.call_tool(name, args)
    world.finish()
    world.score()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    medians = {}
    for sc in SCENARIOS:
        calls = script(sc.name)
        times = [one_episode(sc.name, calls) for _ in range(args.rounds)]
        medians[sc.name] = statistics.median(times)
        print(f"{sc.name:20s} {CALLS} tool calls: median {medians[sc.name] * 1000:6.1f} ms "
              f"(min {min(times) * 1000:.1f}, max {max(times) * 1000:.1f}, {args.rounds} rounds)")
    worst = max(medians.values())
    print(f"worst task median: {worst * 1000:.1f} ms per 30-call episode (target < 100 ms); "
          f"per call {worst / CALLS * 1000:.2f} ms")


if __name__ == "__main__":
    main()
