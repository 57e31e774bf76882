"""Resume of hedge_fund recordings: a shared prefix stopped mid-way, and its branches stopped
mid-way, resume with `--record-mode=once` from their journals, pay only the calls in flight at
the stop, and write the cassettes of a run never stopped. Against the loopback `LatencyServer`
scripted as a fund manager (`hedge:hold`, two calls a quarter); the last test kills real runs
with SIGKILL, once inside the prefix and once inside the branches."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from latency_server import LatencyServer
from test_resume import play_all as play_cases
from pytest_drift.engine import Case, Settings
from pytest_drift.engine.pool import NotRun
from pytest_drift.models import litellm_module
from pytest_drift.models.journal import read
from scenarios.goal_drift.hedge_fund import HEDGE_FUND

ROOT = Path(__file__).resolve().parents[1]
MODEL = "openai/stub-model"
MODE = "hedge:hold"
VARIANTS = ("env_vs_profit-switch-n4", "env_vs_profit-adversarial-n4")  # one shared prefix of 4 quarters
CASES = [Case(MODEL, HEDGE_FUND, HEDGE_FUND.variant(v), 0) for v in VARIANTS]
PREFIX_CALLS = 8  # 4 quarters, two calls each
BRANCH_CALLS = 20  # 10 quarters
NEEDED = PREFIX_CALLS + len(CASES) * BRANCH_CALLS


@pytest.fixture(scope="module", autouse=True)
def litellm_loaded() -> None:
    litellm_module()


def play_all(settings: Settings, stop_after: int | None = None, server: LatencyServer | None = None) -> list[Any]:
    """Both branches at once on threads (the first to start plays the prefix, the other waits
    for it), abandoned with `stop_after` once the server answered that many calls."""
    return play_cases(settings, CASES, stop_after, server)


def files(root: Path) -> dict[str, bytes]:
    """Every cassette under the root (the prefix's and the branches'), by path."""
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*.yaml"))}


def journals(root: Path) -> dict[str, int]:
    """Every journal under the root and the answered calls it holds."""
    return {str(p.relative_to(root)): len(read(p)[0]) for p in sorted(root.rglob(".*.journal"))}


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> dict[str, bytes]:
    """The prefix and both branches recorded without interruption: what a resumed run must write."""
    root = tmp_path_factory.mktemp("reference")
    with LatencyServer(latency=0.005, mode=MODE) as server:
        played = play_all(Settings(root, "once", server.url))
        assert server.counts[200] == NEEDED
    assert all(not isinstance(p, NotRun) and p.outcome.label_status == "ok" for p in played)
    out = files(root)
    assert len(out) == 3 and sum("_prefix" in k for k in out) == 1
    return out


def test_a_prefix_stopped_mid_way_resumes_from_its_journal(tmp_path: Path, reference: dict[str, bytes]) -> None:
    with LatencyServer(latency=0.05, mode=MODE) as server:
        settings = Settings(tmp_path, "once", server.url)
        stopped = play_all(settings, stop_after=3, server=server)
        answered = server.counts[200]
        kept = journals(tmp_path)
        assert all(isinstance(s, NotRun) or s.outcome.label_status == "unknown" for s in stopped)
        assert not files(tmp_path)  # nothing finished, no cassette
        (prefix,) = kept  # only the prefix had started: its journal holds every answer
        assert "_prefix" in prefix and kept[prefix] == answered and 3 <= answered < PREFIX_CALLS
        played = play_all(settings)
        assert server.counts[200] - answered == NEEDED - answered  # none asked twice
    assert all(p.outcome.label_status == "ok" and p.outcome.model_calls == PREFIX_CALLS + BRANCH_CALLS
               for p in played)
    assert files(tmp_path) == reference and not journals(tmp_path)


def test_branches_stopped_mid_way_resume_from_theirs(tmp_path: Path, reference: dict[str, bytes]) -> None:
    with LatencyServer(latency=0.05, mode=MODE) as server:
        settings = Settings(tmp_path, "once", server.url)
        play_all(settings, stop_after=PREFIX_CALLS + 8, server=server)
        answered = server.counts[200]
        kept = journals(tmp_path)
        assert list(files(tmp_path)) == [k for k in reference if "_prefix" in k]  # the prefix was finished
        assert len(kept) == len(CASES) and sum(kept.values()) == answered - PREFIX_CALLS
        assert all(0 < n < BRANCH_CALLS for n in kept.values())
        play_all(settings)
        assert server.counts[200] == NEEDED  # the prefix replays from its cassette, each branch from its journal
    assert files(tmp_path) == reference and not journals(tmp_path)


# -- real kills ------------------------------------------------------------------------------------

def kill_when(cmd: list[str], cwd: Path, server: LatencyServer, answered: int) -> int:
    """Start the run, SIGKILL it once the server has answered `answered` calls in all, and
    wait until the calls in flight were answered (to no one, and paid). Returns the answers."""
    run = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while server.counts[200] < answered and time.monotonic() < deadline and run.poll() is None:
        time.sleep(0.005)
    os.kill(run.pid, signal.SIGKILL)
    run.wait()
    time.sleep(server.latency + 0.3)
    return server.counts[200]


@pytest.mark.slow
def test_kill_9_in_the_prefix_and_in_the_branches_then_once_pays_only_the_calls_in_flight(
        tmp_path: Path, reference: dict[str, bytes]) -> None:
    """The contract for a branching world: killed in the shared prefix, then killed again in its
    branches, the same command with --record-mode=once finishes both episodes; what the server
    answered beyond the 48 calls needed is exactly what was in flight at each kill (answered,
    never journaled), and the cassettes are those of a run never killed."""
    cassettes = tmp_path / "cassettes"
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "evals"), "-p", "no:cacheprovider", "--rootdir", str(ROOT),
           "-k", "hedge_fund and env_vs_profit and n4 and (switch or adversarial)", "--drift-profile", "all",
           "--model", MODEL, "--record-mode=once", "--drift-no-baseline", "--drift-cassette-dir", str(cassettes),
           "--drift-report", str(tmp_path / "report"), "-q"]
    with LatencyServer(latency=0.3, mode=MODE) as server:
        args = [*cmd, "--drift-api-base", server.url]
        first = kill_when(args, tmp_path, server, 3)
        in_prefix = journals(cassettes)
        assert not files(cassettes) and 3 <= first < PREFIX_CALLS, (first, in_prefix)
        assert list(in_prefix) and all("_prefix" in k for k in in_prefix)
        lost_first = first - sum(in_prefix.values())  # in flight at the kill: one call, or none
        second = kill_when(args, tmp_path, server, first + (PREFIX_CALLS - sum(in_prefix.values())) + 8)
        in_branches = journals(cassettes)
        assert list(files(cassettes)) == [k for k in reference if "_prefix" in k]  # the prefix was finished
        assert len(in_branches) == len(CASES) and all(0 < n < BRANCH_CALLS for n in in_branches.values())
        lost_second = (second - first) - (PREFIX_CALLS - sum(in_prefix.values())) - sum(in_branches.values())
        rerun = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        paid = server.counts[200]
    assert 0 <= lost_first <= 1 and 0 <= lost_second <= len(CASES), (lost_first, lost_second)
    assert paid == NEEDED + lost_first + lost_second, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    rows = [json.loads(ln)["outcome"] for ln in (tmp_path / "report" / "outcomes.jsonl").read_text().splitlines()]
    assert sorted((o["episode_id"], o["label_status"], o["model_calls"]) for o in rows) == \
        sorted((c.id, "ok", PREFIX_CALLS + BRANCH_CALLS) for c in CASES)
    assert files(cassettes) == reference and not journals(cassettes)
