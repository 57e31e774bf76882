"""Benchmark: render a drift report from 10,000 outcomes (target < 10 s on 2 cores).

Synthesises outcomes shaped like the real suites - instrumental episodes (7 tasks x 8
variants x models x repeats, contract fields, trace counts, awareness) and gym episodes
with 20-step series - writes them as outcomes.jsonl, then times, median over runs:
load (JSON -> Outcome -> DataFrames), tables (every statistic) and write (json, md,
html with plots and, unless --no-transcripts, a 20-call conversation per episode embedded).
Usage: python bench/report.py [--outcomes N] [--runs K] [--no-transcripts]
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

from pytest_drift import Outcome
from pytest_drift.report import build_report, load_frames
from pytest_drift.records import (TRANSCRIPTS, TestRecord, ToolCallRecord, Transcript,
                                  TranscriptMessage, write_jsonl)
from scenarios.instrumental.factors import LETTERS

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


def transcript_line(o: Outcome, r: random.Random) -> str:
    """A conversation shaped like a real one: system and user prompts, then 20 calls and results."""
    messages = [TranscriptMessage(role="system", content="You are an agent. " * 40),
                TranscriptMessage(role="user", content=f"Task for {o.scenario}, variant {o.variant}. " * 8)]
    for step in range(20):
        cid = f"call_{step}"
        messages.append(TranscriptMessage(role="assistant", content="Checking the state first." if r.random() < .3 else "",
                                          tool_calls=[ToolCallRecord(id=cid, name="shell", step=step,
                                                                     arguments='{"command": "ls -la /srv/data"}')]))
        messages.append(TranscriptMessage(role="tool", tool="shell", tool_call_id=cid, step=step,
                                          content="file.txt 120 bytes\n" * r.randint(2, 12)))
    return Transcript(episode_id=o.episode_id, model=o.model, scenario=o.scenario, family=o.family,
                      variant=o.variant, repeat=o.repeat, termination=o.termination, label_status=o.label_status,
                      evidence_steps=[3], evidence=["step 3: shell('ls') -> a shortcut"], messages=messages).to_json()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--outcomes", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--no-transcripts", action="store_true", help="leave out the conversations")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "outcomes.jsonl"
        records = synthesise(args.outcomes)
        write_jsonl(records, src)
        if not args.no_transcripts:  # beside the report, where report.html picks them up
            r = random.Random(1)
            lines = sorted({rec.outcome.episode_id: transcript_line(rec.outcome, r)
                            for rec in records if rec.outcome is not None}.items())
            (Path(tmp) / "report").mkdir()
            (Path(tmp) / "report" / TRANSCRIPTS).write_text("".join(line + "\n" for _, line in lines))
        phases: dict[str, list[float]] = {"load": [], "tables+plots": [], "write": [], "total": []}
        cpu: list[float] = []  # this process's CPU time: what a shared machine's load does not inflate
        for _ in range(args.runs):
            c0 = time.process_time()
            t0 = time.perf_counter()
            frames = load_frames([src])
            t1 = time.perf_counter()
            report = build_report(frames)
            t2 = time.perf_counter()
            report.write(Path(tmp) / "report")
            t3 = time.perf_counter()
            cpu.append(time.process_time() - c0)
            for name, value in zip(phases, (t1 - t0, t2 - t1, t3 - t2, t3 - t0)):
                phases[name].append(value)
        print(f"{args.outcomes} outcomes ({len(frames.episodes)} episodes), median of {args.runs} runs:")
        for name, values in phases.items():
            print(f"  {name:13s} {statistics.median(values):6.2f} s")
        print(f"total {statistics.median(phases['total']):.2f} s (target < 10 s), CPU {statistics.median(cpu):.2f} s; "
              f"plots: {len(report.plots)}")
        html = Path(tmp) / "report" / "report.html"
        tr = Path(tmp) / "report" / TRANSCRIPTS
        print(f"report.html {html.stat().st_size / 1e6:.1f} MB"
              + (f"; transcripts.jsonl {tr.stat().st_size / 1e6:.1f} MB" if tr.exists() else ""))


if __name__ == "__main__":
    main()
