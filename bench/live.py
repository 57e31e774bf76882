"""Benchmark: a live run against a loopback model server with a fixed latency.

For each episode count E (default 16, 64, 256): release_manager episodes (4 variants x
E/4 repeats, 20 model calls each) recorded by `pytest evals`-style tests with
`--drift-concurrency E`, in a fresh pytest process, against `tests/latency_server.py`
run in its own process (so the client's CPU is measured without the server's). Prints:

  efficiency   physical limit / wall of the model traffic. The limit is the slowest
               episode's latency-bound answers x latency (every episode in flight at once);
               the wall runs from the server's first request to its last answer.
  CPU/call     the pytest process's CPU (all threads: litellm, vcrpy, worlds, pytest) from
               the live pool's start to its last episode, per model call
  peak RSS     of the pytest process (ru_maxrss; with --workers, of the largest process)
  usage        whether every outcome's tokens are what the server reported for its episode
  replay       whether replaying the recorded cassettes (offline, no server) reproduces
               every outcome (provenance aside)
  (json)       turnaround: the client's time from an answer to its episode's next request
               (median, p90, max); start_spread: how late the last episode sent its first

With --p429/--p500 the server answers that share of requests with 429 (Retry-After:
--retry-after) or 500, and the wall time and labels are what to read.

Usage: python bench/live.py [--episodes 16 64 256] [--latency 1.0] [--model openai/gpt-4o-mini]
                            [--p429 0.3 --p500 0.1] [--workers 2] [--no-replay]
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EVAL = """
import pytest
pytestmark = pytest.mark.drift(scenarios="release_manager")

def test_alignment(outcome):
    assert outcome.label_status == "ok"
"""


def start_server(latency: float, p429: float, p500: float, retry_after: float) -> tuple[subprocess.Popen, str]:
    cmd = [sys.executable, str(ROOT / "tests" / "latency_server.py"), "--latency", str(latency),
           "--p429", str(p429), "--p500", str(p500), "--retry-after", str(retry_after)]
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    return proc, proc.stdout.readline().strip()


def stop_server(proc: subprocess.Popen) -> dict:
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.close()
    out = proc.stdout.read()
    proc.wait(30)
    return json.loads(out.strip().splitlines()[-1])


def run_pytest(workdir: Path, args: list[str]) -> tuple[str, float, int, float]:
    """(output, wall s, peak RSS in KB, CPU s) of one pytest process."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    cmd = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--drift-progress", "off", *args]
    start = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=workdir, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert proc.stdout is not None
    out = proc.stdout.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    return out, time.perf_counter() - start, usage.ru_maxrss, usage.ru_utime + usage.ru_stime


def outcomes(path: Path) -> dict[str, dict]:
    rows = {}
    for line in path.read_text().splitlines():
        rec = json.loads(line)
        rec["outcome"].pop("provenance", None)
        rows[rec["nodeid"]] = rec["outcome"]
    return rows


def one(episodes: int, a: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory(prefix="drift-live-") as tmp:
        work = Path(tmp)
        (work / "pytest.ini").write_text("[pytest]\njunit_family = legacy\n")
        (work / "test_live.py").write_text(EVAL)
        server, url = start_server(a.latency, a.p429, a.p500, a.retry_after)
        try:
            per_process = -(-episodes // a.workers)
            out, wall, rss_kb, cpu = run_pytest(work, [
                "--model", a.model, "--drift-api-base", url, "--record-mode", "once",
                "--drift-repeats", str(max(1, episodes // 4)), "--drift-concurrency", str(per_process),
                "--drift-report", "rec", *(["-n", str(a.workers)] if a.workers > 1 else [])])
        finally:
            traffic = stop_server(server)
        m = re.search(r"client CPU ([\d.]+) ms per call", out)  # every process's CPU, summed
        rec = outcomes(work / "rec" / "outcomes.jsonl") if (work / "rec" / "outcomes.jsonl").exists() else {}
        result = {
            "episodes": len(rec), "ok": sum(o["label_status"] == "ok" for o in rec.values()),
            "calls": sum(traffic["counts"].values()), "answers": traffic["counts"],
            "limit_s": traffic["limit_s"], "traffic_s": traffic["window_s"], "pytest_s": round(wall, 1),
            "efficiency": round(traffic["limit_s"] / traffic["window_s"], 3) if traffic["window_s"] else None,
            "cpu_ms_per_call": float(m.group(1)) if m else None, "process_cpu_s": round(cpu, 1),
            "peak_rss_mb": round(rss_kb / 1024), "peak_in_flight": traffic["peak_in_flight"], "workers": a.workers,
            "retries": sum(o["retries"] for o in rec.values()),
            "turnaround_ms": traffic.get("turnaround_ms"), "start_spread_s": traffic.get("start_spread_s"),
            "connections": traffic.get("connections"),
            # each outcome's tokens are what the server reported for its episode (its seed)
            "usage_as_served": bool(rec) and all(
                {k: v for k, v in o["usage"].items() if k != "cost_usd"}
                == {"reasoning_tokens": 0, **traffic["usage_by_seed"].get(str(o["seed"]), {})}  # it serves no reasoning
                for o in rec.values()),
        }
        if not rec:
            result["output"] = out[-3000:]
        if not a.no_replay and rec:
            _, replay_wall, _, _ = run_pytest(work, ["--model", a.model, "--drift-repeats", str(max(1, episodes // 4)),
                                                        "--drift-report", "rep"])
            rep = outcomes(work / "rep" / "outcomes.jsonl") if (work / "rep" / "outcomes.jsonl").exists() else {}
            result["replay_reproduces"] = rep == rec
            result["replay_s"] = round(replay_wall, 1)
        return result


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--episodes", type=int, nargs="+", default=[16, 64, 256])
    ap.add_argument("--latency", type=float, default=1.0)
    ap.add_argument("--model", default="openai/gpt-4o-mini", help="a priced model name, served by the loopback server")
    ap.add_argument("--p429", type=float, default=0.0)
    ap.add_argument("--p500", type=float, default=0.0)
    ap.add_argument("--retry-after", type=float, default=1.0)
    ap.add_argument("--no-replay", action="store_true")
    ap.add_argument("--workers", type=int, default=1, help="xdist workers (-n); each plays its share at once")
    a = ap.parse_args()
    print(f"release_manager against a loopback server: latency {a.latency}s, 429 {a.p429:.0%}, 500 {a.p500:.0%}; "
          f"model {a.model}; {os.cpu_count()} CPUs")
    print(f"{'episodes':>8} {'ok':>4} {'calls':>6} {'limit s':>8} {'traffic s':>9} {'effic.':>7} {'CPU ms/call':>11} "
          f"{'RSS MB':>7} {'in flight':>9} {'retries':>7} {'usage':>6} {'replay':>7}")
    for n in a.episodes:
        r = one(n, a)
        print(f"{r['episodes']:>8} {r['ok']:>4} {r['calls']:>6} {r['limit_s']:>8.1f} {r['traffic_s']:>9.1f} "
              f"{r['efficiency'] if r['efficiency'] is not None else '-':>7} {r['cpu_ms_per_call'] or '-':>11} "
              f"{r['peak_rss_mb']:>7} {r['peak_in_flight']:>9} {r['retries']:>7} {r['usage_as_served']!s:>6} "
              f"{r.get('replay_reproduces', '-')!s:>7}", flush=True)
        if "output" in r:
            print(r["output"])
        print("  " + json.dumps(r), flush=True)


if __name__ == "__main__":
    main()
