"""Benchmark (bars/perf-replay-providers): a user's own recordings replay as fast as the
shipped ones, whatever the provider.

1. Records the same release_manager episodes (4 variants x R repeats; 64 with the default
   R=16) from loopback servers speaking each provider's wire format, as a user records them:
     openai/my-model                                     (OpenAI chat, wire_servers' script)
     openai/gpt-4o-mini, priced                          (OpenAI chat, wire_servers' script)
     anthropic/claude-sonnet-4-5 --drift-thinking-tokens 16000   (wire_servers.AnthropicServer)
     openrouter/anthropic/claude-sonnet-4.5 --drift-reasoning-effort low  (wire_servers.OpenRouterServer, its usage.cost)
2. Replays each as whole processes, `pytest evals -k release_manager --record-mode=none ...`,
   N rounds; in each round openai/my-model first, then every other model, so each ratio is
   paired against a run of the same moment. With --full each other model also replays with
   PYTEST_DRIFT_FULL_REPLAY=1 (litellm's full path: how it replayed before the per-provider
   fast path); openai/my-model always takes its fast path, as it did before.
3. Prints per model and path: the median wall time and the median of the per-round ratios
   to openai/my-model (target for the fast path <= 1.15 x). A cassette miss stops the bench.

Usage: python bench/replay_providers.py [--repeats R] [--rounds N] [--full]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))

from wire_servers import AnthropicServer, OpenAIReasoningServer, OpenRouterServer  # noqa: E402


class ChatServer(OpenAIReasoningServer):
    """OpenAI chat for a plain chat model (max_tokens and any temperature taken), playing the
    same script as the other wire-format servers, so every model's episodes have the same calls."""

    def _refusal(self, body: dict[str, Any]) -> Any:
        return super()._refusal({k: v for k, v in body.items() if k not in ("max_tokens", "temperature")})

BASE = "openai/my-model"
# (model, its server, extra flags: the same on recording and replay)
MODELS = [(BASE, ChatServer, []),
          ("openai/gpt-4o-mini", ChatServer, []),
          ("anthropic/claude-sonnet-4-5", AnthropicServer, ["--drift-thinking-tokens", "16000"]),
          ("openrouter/anthropic/claude-sonnet-4.5", lambda: OpenRouterServer(report_cost=True),
           ["--drift-reasoning-effort", "low"])]
TARGET = 1.15
KEYS = {"OPENAI_API_KEY": "sk-bench", "ANTHROPIC_API_KEY": "sk-bench", "OPENROUTER_API_KEY": "sk-bench"}


def pytest_argv(model: str, flags: list[str], cassettes: Path, repeats: int, *more: str) -> list[str]:
    return [sys.executable, "-m", "pytest", "evals", "-k", "release_manager", "-q", "-p", "no:cacheprovider",
            "--model", model, "--drift-repeats", str(repeats), "--drift-cassette-dir", str(cassettes), *flags, *more]


def run(argv: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - start
    # 1: some episode failed its check, which is the eval's business; a miss is the bench's
    if proc.returncode not in (0, 1) or "cassette miss" in proc.stdout:
        raise SystemExit(f"{' '.join(argv)} failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}")
    return wall


def record(cassettes: Path, repeats: int) -> None:
    env = {**os.environ, **KEYS}
    with ExitStack() as stack:
        for model, server_kind, flags in MODELS:
            server = stack.enter_context(server_kind())
            run(pytest_argv(model, flags, cassettes, repeats, "--record-mode", "once", "--drift-api-base", server.url),
                env)
            print(f"recorded {model}", file=sys.stderr)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cassettes = Path(tmp)
        record(cassettes, ARGS.repeats)
        calls = sum(len(p.read_text().split("- request:")) - 1 for p in cassettes.rglob("*.yaml"))
        fast_env = {k: v for k, v in os.environ.items() if k != "PYTEST_DRIFT_FULL_REPLAY"}
        full_env = {**fast_env, "PYTEST_DRIFT_FULL_REPLAY": "1"}
        paths = {"fast": fast_env, "full": full_env} if ARGS.full else {"fast": fast_env}
        walls: dict[tuple[str, str], list[float]] = {}
        ratios: dict[tuple[str, str], list[float]] = {}
        for _ in range(ARGS.rounds):
            base = run(pytest_argv(BASE, [], cassettes, ARGS.repeats, "--record-mode=none"), fast_env)
            walls.setdefault((BASE, "fast"), []).append(base)
            for model, _, flags in MODELS[1:]:
                for path, env in paths.items():
                    wall = run(pytest_argv(model, flags, cassettes, ARGS.repeats, "--record-mode=none"), env)
                    walls.setdefault((model, path), []).append(wall)
                    ratios.setdefault((model, path), []).append(wall / base)
    print(f"{4 * ARGS.repeats} release_manager episodes per model, {calls} recorded calls in all; {ARGS.rounds} rounds, "
          f"each ratio paired with the round's {BASE} run (its fast path, as before this change)")
    head = "".join(f"{f'{p}: wall, x base (min-max)':>40}" for p in paths)
    print(f"{'model':<68}{head}")
    base_cell = f"{statistics.median(walls[(BASE, 'fast')]):.2f} s, 1.00"
    print(f"{BASE:<68}{base_cell:>40}")
    for model, _, flags in MODELS[1:]:
        cells = []
        for p in paths:
            r = ratios[(model, p)]
            mark = "" if p != "fast" else (" ok" if statistics.median(r) <= TARGET else f" >{TARGET}")
            cells.append(f"{statistics.median(walls[(model, p)]):.2f} s, {statistics.median(r):.2f} x "
                         f"({min(r):.2f}-{max(r):.2f}){mark}")
        print(f"{' '.join([model, *flags]):<68}" + "".join(f"{c:>40}" for c in cells))


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--repeats", type=int, default=16)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--full", action="store_true",
                    help="also replay each other model on litellm's full path (PYTEST_DRIFT_FULL_REPLAY=1): before/after")
    ARGS = ap.parse_args()
    main()
