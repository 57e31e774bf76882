"""Benchmark: what the framework adds to a pytest run, as a ratio to the bare imports.

The yardstick B is `python -c "import litellm, pytest"`: what any litellm-based pytest
plugin pays before doing anything. Each command is run paired with B (B, then the command,
then B again for the next command...), so both see the same machine load; the figures are
medians over the rounds of the wall times and of the per-round ratios.

  P6  pytest evals -k release_manager   one scenario replayed           target <= 1.35 x B
  P3  pytest evals                      the whole shipped replay        target <= 2.5 x B
  F   pytest (a foreign project, one trivial test): what having the plugin installed costs,
      paired against the same run with `-p no:drift`                   target ~ 1.0

Usage: python bench/startup.py [--rounds K] [--only P6 P3 F]
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PYTEST = shutil.which("pytest") or "pytest"


@dataclass(frozen=True)
class Command:
    name: str
    argv: list[str]
    cwd: Path
    yardstick: list[str]
    target: float | None


def bare_imports() -> list[str]:
    return [sys.executable, "-c", "import litellm, pytest"]


def commands(foreign: Path) -> list[Command]:
    return [  # the commands as a user types them
        Command("P6", [PYTEST, "evals", "-k", "release_manager"], ROOT, bare_imports(), 1.35),
        Command("P3", [PYTEST, "evals"], ROOT, bare_imports(), 2.5),
        Command("F", [PYTEST], foreign, [PYTEST, "-p", "no:drift"], None),
    ]


def wall(argv: list[str], cwd: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=cwd, capture_output=True, text=True)
    took = time.perf_counter() - start
    if proc.returncode not in (0, 5):  # 5: no tests collected (not expected, but not a failure of timing)
        raise SystemExit(f"{' '.join(argv)} exited {proc.returncode}:\n{proc.stdout[-2000:]}{proc.stderr[-2000:]}")
    return took


def measure(cmd: Command, rounds: int) -> tuple[float, float, float]:
    """Median wall of the command, of its yardstick, and of the per-round ratio."""
    own, base, ratio = [], [], []
    for _ in range(rounds):
        b = wall(cmd.yardstick, cmd.cwd)
        p = wall(cmd.argv, cmd.cwd)
        own.append(p)
        base.append(b)
        ratio.append(p / b)
    return statistics.median(own), statistics.median(base), statistics.median(ratio)


def foreign_project(where: Path) -> Path:
    """A project of its own (not this repo) with one trivial test."""
    (where / "test_trivial.py").write_text("def test_trivial():\n    assert 1 + 1 == 2\n")
    (where / "pytest.ini").write_text("[pytest]\n")
    return where


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--only", nargs="+", default=["P6", "P3", "F"], choices=["P6", "P3", "F"])
    args = ap.parse_args()
    print(f"{os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}; medians of {args.rounds} paired rounds")
    with tempfile.TemporaryDirectory() as tmp:
        for cmd in commands(foreign_project(Path(tmp))):
            if cmd.name not in args.only:
                continue
            own, base, ratio = measure(cmd, args.rounds)
            yard = "B" if cmd.yardstick == bare_imports() else "the same run without the plugin"
            target = f"  (target <= {cmd.target})" if cmd.target else ""
            print(f"{cmd.name}  {' '.join(Path(cmd.argv[0]).name if i == 0 else a for i, a in enumerate(cmd.argv))}: "
                  f"{own:.2f} s = {ratio:.2f} x {yard} ({base:.2f} s){target}")


if __name__ == "__main__":
    main()
