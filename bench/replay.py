"""Benchmark: pytest-drift's overhead per replayed model call, per provider, and a full
offline replay.

1. Records release_manager episodes (all variants, R repeats) from the loopback stub
   server into a temporary cassette folder, and the same episodes of one model per wire
   format from loopback servers speaking it (tests/wire_servers.py).
2. Per call, in-process, median over rounds:
     full  = play(case) in replay mode / model calls       (engine + world + cassette, fast path)
     slow  = the same with PYTEST_DRIFT_FULL_REPLAY=1      (every call through litellm.completion)
     bare  = litellm.completion on the same recorded requests, same cassette, replay mode (stub only)
     overhead = full - bare                                  (what pytest-drift adds or saves)
   printed for the stub, then per provider: fast and full side by side.
3. Wall time of `pytest evals` replaying the stub's cassettes (-n 0), median over runs.

Usage: python bench/replay.py [--repeats R] [--rounds K] [--runs N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from openai_stub_server import StubServer  # noqa: E402
from wire_servers import (AnthropicServer, GeminiServer, OpenAIReasoningServer, OpenRouterServer,  # noqa: E402
                          ResponsesServer)

from pytest_drift.models.cassettes import use_cassette  # noqa: E402
from pytest_drift.models import litellm_module  # noqa: E402
from pytest_drift.engine import Case, Settings, play  # noqa: E402
from pytest_drift.models import REPLAY_KEY, fast_replay  # noqa: E402
from pytest_drift.models.request import Decoding  # noqa: E402
from scenarios.gym import RELEASE_MANAGER  # noqa: E402

MODEL = "openai/stub-model"
# one model per wire format: (label, model, its loopback server, request settings)
PROVIDERS = [
    ("OpenAI chat, unpriced", "openai/my-model", lambda: StubServer(mode="reasoning"), Decoding()),
    ("OpenAI chat, priced", "openai/gpt-4o-mini", lambda: StubServer(mode="reasoning"), Decoding()),
    ("OpenAI chat, reasoning", "openai/gpt-5", OpenAIReasoningServer, Decoding(reasoning_effort="low")),
    ("OpenAI Responses, summaries", "openai/gpt-5", ResponsesServer,
     Decoding(reasoning_effort="medium", reasoning_summary="detailed")),
    ("Anthropic, thinking", "anthropic/claude-sonnet-4-5", AnthropicServer, Decoding(thinking_tokens=16000)),
    ("Gemini, thinking", "gemini/gemini-2.5-pro", GeminiServer, Decoding(reasoning_effort="low")),
    ("OpenRouter, reasoning", "openrouter/anthropic/claude-sonnet-4.5", lambda: OpenRouterServer(report_cost=True),
     Decoding(reasoning_effort="low")),
]


def cases(repeats: int, model: str = MODEL) -> list[Case]:
    return [Case(model, RELEASE_MANAGER, v, r) for v in RELEASE_MANAGER.variants for r in range(repeats)]


def record(root: Path, repeats: int, model: str = MODEL, server_kind: Any = StubServer,
           decoding: Decoding = Decoding()) -> str:
    """Record the episodes; returns the api_base a replay gives (the server's, at a dead port)."""
    with server_kind() as server:
        for case in cases(repeats, model):
            play(case, Settings(root, "once", server.url, decoding=decoding))
        return server.url.replace(f":{server.port}", ":9")


def full_per_call(root: Path, repeats: int, model: str = MODEL, api_base: str = "http://127.0.0.1:9/v1",
                  decoding: Decoding = Decoding()) -> float:
    settings = Settings(root, "none", api_base, decoding=decoding)
    calls, start = 0, time.perf_counter()
    for case in cases(repeats, model):
        outcome = play(case, settings).outcome
        assert outcome.label_status == "ok", outcome.label_reason
        calls += outcome.model_calls
    return (time.perf_counter() - start) / calls


def slow_per_call(root: Path, repeats: int, *args: Any) -> float:
    os.environ[fast_replay.OFF_ENV] = "1"
    try:
        return full_per_call(root, repeats, *args)
    finally:
        del os.environ[fast_replay.OFF_ENV]


def per_provider(root: Path) -> list[tuple[str, str, float, float]]:
    """(label, model, fast ms, full ms) per wire format, medians over the rounds."""
    rows = []
    for i, (label, model, server_kind, decoding) in enumerate(PROVIDERS):
        folder = root / f"{i}-{model.replace('/', '_')}"  # one folder per row: gpt-5 is two of them
        base = record(folder, ARGS.repeats, model, server_kind, decoding)
        args = (model, base, decoding)
        full_per_call(folder, ARGS.repeats, *args)  # warm-up (the provider's imports)
        slow_per_call(folder, ARGS.repeats, *args)
        fast = statistics.median(full_per_call(folder, ARGS.repeats, *args) for _ in range(ARGS.rounds))
        full = statistics.median(slow_per_call(folder, ARGS.repeats, *args) for _ in range(ARGS.rounds))
        rows.append((label, model, fast * 1e3, full * 1e3))
    return rows


def bare_per_call(root: Path) -> float:
    litellm = litellm_module()
    calls, elapsed = 0, 0.0
    for path in sorted(root.rglob("*.yaml")):
        import yaml

        bodies = [json.loads(i["request"]["body"]) for i in yaml.safe_load(path.read_text())["interactions"]]
        with use_cassette(path, "none"):
            start = time.perf_counter()
            for b in bodies:  # the recorded body as it was sent: bare litellm + vcrpy, nothing of ours
                litellm.completion(model=MODEL, api_base="http://127.0.0.1:9/v1", api_key=REPLAY_KEY, max_retries=0,
                                   **{k: v for k, v in b.items() if k != "model"})
            elapsed += time.perf_counter() - start
        calls += len(bodies)
    return elapsed / calls


def pytest_wall(root: Path) -> float:
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "evals"), "-q", "-p", "no:cacheprovider",
                           "--model", MODEL, "--drift-cassette-dir", str(root), "--drift-repeats", str(ARGS.repeats)],
                          cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - start
    if proc.returncode not in (0, 1):
        raise SystemExit(f"pytest failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}")
    return wall


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        record(root, ARGS.repeats)
        n_calls = sum(len(p.read_text().split("- request:")) - 1 for p in root.rglob("*.yaml"))
        full_per_call(root, ARGS.repeats)  # warm-up (imports)
        bare_per_call(root)
        fulls = [full_per_call(root, ARGS.repeats) for _ in range(ARGS.rounds)]
        slows = [slow_per_call(root, ARGS.repeats) for _ in range(ARGS.rounds)]
        bares = [bare_per_call(root) for _ in range(ARGS.rounds)]
        walls = [pytest_wall(root) for _ in range(ARGS.runs)]
        rows = per_provider(root / "providers")
    full, slow, bare = statistics.median(fulls), statistics.median(slows), statistics.median(bares)
    print(f"episodes: {len(cases(ARGS.repeats))}, recorded model calls: {n_calls}")
    print(f"per replayed call, full stack : {full * 1e3:.2f} ms (median of {ARGS.rounds})")
    print(f"per replayed call, full stack without the fast path: {slow * 1e3:.2f} ms "
          f"(the fast path: {full / slow:.2f} x of it)")
    print(f"per replayed call, bare litellm+vcrpy: {bare * 1e3:.2f} ms")
    print(f"pytest-drift overhead per call: {(full - bare) * 1e3:.2f} ms")
    print(f"`pytest evals` offline replay wall time: {statistics.median(walls):.2f} s "
          f"(median of {ARGS.runs}; min {min(walls):.2f}, max {max(walls):.2f})")
    print(f"\nper replayed call, whole stack, per provider (median of {ARGS.rounds}):")
    print(f"{'provider':<28} {'model':<40} {'fast path':>10} {'full path':>10} {'fast/full':>10}")
    for label, model, fast, full in rows:
        print(f"{label:<28} {model:<40} {fast:>7.2f} ms {full:>7.2f} ms {fast / full:>9.2f}x")


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=2)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--runs", type=int, default=3)
    ARGS = ap.parse_args()
    main()
