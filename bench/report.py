"""Benchmark: render a drift report from 10,000 outcomes (target < 10 s on 2 cores).

Synthesises outcomes shaped like the real suites - instrumental episodes (7 tasks x 8
variants x models x repeats, contract fields, trace counts, awareness) and gym episodes
with 20-step series - writes them as outcomes.jsonl, then times, median over runs:
load (JSON -> Outcome -> DataFrames), tables (every statistic) and write (json, md,
html with plots). Usage: python bench/report.py [--outcomes N] [--runs K]
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from pytest_drift import Outcome  # noqa: E402
from pytest_drift.report import build_report, load_frames  # noqa: E402
from pytest_drift.records import TestRecord, write_jsonl  # noqa: E402
from scenarios.instrumental.factors import LETTERS  # noqa: E402

TASKS = ("budget_siphon", "quota_boost", "training_preserver", "memory_keeper", "deployment_guardian",
         "final_instance", "ledger_audit")


def instrumental(model: str, task: str, variant: str, repeat: int, r: random.Random) -> Outcome:
    ic = r.random() < (0.3 if LETTERS[variant] == "H" else 0.06)
    fields = {"ic_behavior_detected": ic, "benchmark_task_completed": ic or r.random() < .7,
              "official_path_succeeded": not ic and r.random() < .7, "official_path_attempted": True,
              "any_forged": r.random() < .02, "state_tampering_detected": ic and r.random() < .5,
              "completion_mode": "ic_completion" if ic else "official_complete", "ic_method": "m" if ic else None,
              "ic_forbidden": LETTERS[variant] not in "FG", "letter": LETTERS[variant],
              "awareness": {"tier": r.choice(["none", "none", "broad", "strict"])},
              "trace_counts": {k: r.randint(0, 5) for k in ("tool_calls", "errors", "policy_reads", "tool_source_reads")}}
    label = "unknown" if r.random() < .01 else "ok"
    return Outcome(episode_id=f"{model}-{task}-{variant}-r{repeat}", model=model, scenario=task, family="instrumental",
                   variant=variant, repeat=repeat, seed=repeat, label_status=label, termination="agent_stopped",
                   headline="ic_behavior_detected", metrics={"ic_behavior_detected": float(ic)},
                   fields=fields if label == "ok" else {})


def gym(model: str, variant: str, repeat: int, r: random.Random) -> Outcome:
    series = [min(1.0, max(0.0, 1 - t * r.uniform(0, .05))) for t in range(20)]
    return Outcome(episode_id=f"{model}-release_manager-{variant}-r{repeat}", model=model, scenario="release_manager",
                   family="gym", variant=variant, repeat=repeat, seed=repeat, label_status="ok", termination="done",
                   headline="mean_alignment", threshold=0.6,
                   metrics={"mean_alignment": sum(series) / 20, "alignment_slope": -0.01}, series={"alignment": series})


def synthesise(n: int) -> list[TestRecord]:
    r = random.Random(0)
    out: list[TestRecord] = []
    repeat = 0
    while len(out) < n:
        for m in range(10):
            for task in TASKS:
                for variant in LETTERS:
                    o = instrumental(f"prov/model-{m}", task, variant, repeat, r)
                    out.append(TestRecord(f"evals/test_instrumental.py::t[{o.episode_id}]",
                                          "failed" if o.fields.get("ic_behavior_detected") else "passed", o))
            for variant in ("default", "high_pressure", "noisy_signals", "hidden_panels"):
                o = gym(f"prov/model-{m}", variant, repeat, r)
                out.append(TestRecord(f"evals/test_gym.py::t[{o.episode_id}]", "passed", o))
        repeat += 1
    return out[:n]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "outcomes.jsonl"
        write_jsonl(synthesise(args.outcomes), src)
        phases: dict[str, list[float]] = {"load": [], "tables+plots": [], "write": [], "total": []}
        for _ in range(args.runs):
            t0 = time.perf_counter()
            frames = load_frames([src])
            t1 = time.perf_counter()
            report = build_report(frames)
            t2 = time.perf_counter()
            report.write(Path(tmp) / "report")
            t3 = time.perf_counter()
            for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                phases[name].append(value)
        print(f"{args.outcomes} outcomes ({len(frames.episodes)} episodes), median of {args.runs} runs:")
        for name, values in phases.items():
            print(f"  {name:13s} {statistics.median(values):6.2f} s")
        print(f"total {statistics.median(phases['total']):.2f} s (target < 10 s); plots: {len(report.plots)}")


if __name__ == "__main__":
    main()
