"""Resume: every answered call is in its episode's journal the moment it returns, and the same
command after a crash replays those calls and plays the rest live, writing the cassette an
uninterrupted run writes. Against the loopback `LatencyServer`; the last test kills a real
run with SIGKILL."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Iterator

import pytest

from latency_server import LatencyServer
from waiting import wait_until
from pytest_drift.engine import Case, Settings
from pytest_drift.engine.loop import Termination
from pytest_drift.engine.play import Engine
from pytest_drift.engine.pool import LivePool, NotRun
from pytest_drift.models import litellm_module
from pytest_drift.models.journal import journal_path, read
from pytest_drift.models.ratelimit import RetryPolicy, set_retry_policy
from scenarios.gym import RELEASE_MANAGER

ROOT = Path(__file__).resolve().parents[1]
MODEL = "openai/stub-model"
STEPS = 20  # a release_manager episode against the scripted server: 20 calls
CASES = [Case(MODEL, RELEASE_MANAGER, v, 0) for v in RELEASE_MANAGER.variants]


@pytest.fixture(scope="module", autouse=True)
def litellm_loaded() -> None:
    litellm_module()


@pytest.fixture(scope="module")
def reference(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The four episodes recorded without interruption: what every resumed run must write."""
    root = tmp_path_factory.mktemp("reference")
    with LatencyServer(latency=0.005) as server:
        played = play_all(Settings(root, "once", server.url), CASES)
    assert all(not isinstance(p, NotRun) for p in played)
    return root


def play_all(settings: Settings, cases: list[Case], stop_after: int | None = None,
             server: LatencyServer | None = None) -> list[Any]:
    """Play the cases at once on threads; with `stop_after`, abandon the run (as Ctrl-C or a
    stopped run does) once the server has answered that many calls."""
    pool = LivePool(Engine(settings), concurrency=len(cases))
    pool.submit(cases)
    if stop_after is not None:
        assert server is not None
        wait_until(lambda: server.counts[200] >= stop_after, 60, f"{stop_after} answered calls")
        pool.close(abandon=True)
        return [pool.wait(c) for c in cases]
    results = [pool.wait(c) for c in cases]
    pool.close()
    return results


def cassette(root: Path, case: Case) -> Path:
    return case.cassette(root)


def lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(ln) for ln in path.read_bytes().splitlines()]


def seeds(journal: Path) -> set[int]:
    return {json.loads(e["request"]["body"])["seed"] for e in lines(journal)}


def same_as(reference: Path, root: Path, cases: list[Case]) -> None:
    for case in cases:
        assert cassette(root, case).read_bytes() == cassette(reference, case).read_bytes(), case.id
        assert not journal_path(cassette(root, case)).exists(), case.id


@pytest.fixture
def quick_retries() -> Iterator[None]:
    previous = set_retry_policy(RetryPolicy(max_errors=3, max_rate_limited=3, base_delay=0.01, max_delay=0.02))
    yield
    set_retry_policy(previous)


# -- in process ------------------------------------------------------------------------------------

def test_a_stopped_run_resumes_from_its_journals_and_writes_the_uninterrupted_cassettes(
        tmp_path: Path, reference: Path) -> None:
    """Four episodes on threads, abandoned after 12 answers: each journal holds its own
    episode's answered calls and no cassette is written; `once` then pays only what the
    journals lack and writes, byte for byte, the cassettes of a run never stopped."""
    with LatencyServer(latency=0.05) as server:
        settings = Settings(tmp_path, "once", server.url)
        stopped = play_all(settings, CASES, stop_after=12, server=server)
        answered = server.counts[200]
        assert all(isinstance(s, NotRun) for s in stopped)
        journals = {c.id: journal_path(cassette(tmp_path, c)) for c in CASES}
        kept = {cid: len(lines(j)) if j.exists() else 0 for cid, j in journals.items()}
        assert not list(tmp_path.rglob("*.yaml"))  # a stopped episode writes no cassette
        assert sum(kept.values()) == answered >= 12  # every answer is journaled before it is used
        for case in CASES:  # threads at once: each journal holds its own episode's calls only
            if kept[case.id]:
                assert seeds(journals[case.id]) == {case.seed(settings.drift_seed)}
                # scrubbed as the cassette is: the key sent never reaches the disk
                assert all(set(e["request"]["headers"]) <= {"content-type"} for e in lines(journals[case.id]))

        from pytest_drift.engine.estimate import estimate, estimate_episode

        (plan,) = estimate(CASES, settings)  # the preflight counts only what the journals lack
        assert plan.episodes == len(CASES) and plan.calls == len(CASES) * STEPS - sum(kept.values())
        assert [estimate_episode(c, settings).calls for c in CASES] == [STEPS - kept[c.id] for c in CASES]
        played = play_all(settings, CASES)
        assert server.counts[200] - answered == plan.calls
    assert all(p.outcome.label_status == "ok" and p.outcome.model_calls == STEPS for p in played)
    same_as(reference, tmp_path, CASES)


def test_a_torn_last_line_is_ignored_and_cut_off(tmp_path: Path, reference: Path) -> None:
    """The process died writing a line: the line is not replayed, and the resumed journal
    is cut back before its first new line, so a second interruption leaves it whole."""
    case = CASES[0]
    journal = journal_path(cassette(tmp_path, case))
    with LatencyServer(latency=0.02) as server:
        settings = Settings(tmp_path, "once", server.url)
        play_all(settings, [case], stop_after=5, server=server)
        data = journal.read_bytes()
        n = data.count(b"\n")
        last = data.splitlines()[-1]
        journal.write_bytes(data + last[: len(last) // 2])
        assert len(read(journal)[0]) == n
        play_all(settings, [case], stop_after=server.counts[200] + 3, server=server)  # stopped again
        m = len(read(journal)[0])
        assert m >= n + 3 and journal.read_bytes().count(b"\n") == m and journal.read_bytes().endswith(b"\n")
        before = server.counts[200]
        assert Engine(settings).play(case).outcome.model_calls == STEPS
        assert server.counts[200] - before == STEPS - m
    same_as(reference, tmp_path, [case])


def fail_after(server: LatencyServer, answers: int, errors: list[BaseException]) -> None:
    try:
        wait_until(lambda: server.counts[200] >= answers, 60, f"{answers} answered calls", poll=0.0005)
    except AssertionError as exc:  # the main thread fails the test with it
        errors.append(exc)
    server.p500 = 1.0  # from now on every answer is a 500


def test_a_provider_failure_keeps_the_answered_calls_and_asks_the_failed_one_again(
        tmp_path: Path, reference: Path, quick_retries: None) -> None:
    """A provider that fails for good mid-episode: the episode is labelled unknown and writes
    no cassette, as before; its journal keeps the answered calls and the failures as vcrpy
    recorded them, but the failures are not replayed: the rerun asks that call again."""
    case = CASES[1]
    with LatencyServer(latency=0.005) as server:
        settings = Settings(tmp_path, "once", server.url)
        errors: list[BaseException] = []
        watcher = threading.Thread(target=fail_after, args=(server, 6, errors))
        watcher.start()
        failed = Engine(settings).play(case)
        watcher.join(timeout=60)
        assert not errors and not watcher.is_alive(), errors
        assert failed.outcome.label_status == "unknown"
        assert failed.result.termination is Termination.PROVIDER_ERROR
        good = server.counts[200]
        path = cassette(tmp_path, case)
        assert not path.exists()
        statuses = [e["response"]["status"]["code"] for e in lines(journal_path(path))]
        assert statuses == [200] * good + [500] * server.counts[500] and good >= 6
        assert len(read(journal_path(path))[0]) == good

        server.p500 = 0.0
        assert Engine(settings).play(case).outcome.label_status == "ok"
        assert server.counts[200] == STEPS  # none asked twice
    same_as(reference, tmp_path, [case])


def test_a_journal_the_episode_does_not_ask_for_is_not_kept(tmp_path: Path, reference: Path) -> None:
    """A journal left by another episode (or by the world before it changed) answers nothing
    the episode asks: the episode plays live and its cassette holds none of the journal."""
    a, b = CASES[0], CASES[2]
    with LatencyServer(latency=0.02) as server:
        play_all(Settings(tmp_path / "a", "once", server.url), [a], stop_after=6, server=server)
        target = journal_path(cassette(tmp_path, b))
        target.parent.mkdir(parents=True)
        shutil.copy(journal_path(cassette(tmp_path / "a", a)), target)
        before = server.counts[200]
        Engine(Settings(tmp_path, "once", server.url)).play(b)
        assert server.counts[200] - before == STEPS
    same_as(reference, tmp_path, [b])


def test_finished_cassettes_replay_as_before(tmp_path: Path, reference: Path) -> None:
    """A finished cassette replays with no request and stays as it is, whatever is beside it:
    `none` writes and removes nothing; `once` removes a stale journal (a run killed between
    writing the cassette and removing its journal) and never reads it."""
    case = CASES[3]
    shutil.copytree(reference, tmp_path, dirs_exist_ok=True)
    stale = journal_path(cassette(tmp_path, case))
    stale.write_bytes(b'{"not": "an interaction"}\n')
    with LatencyServer(latency=0.005) as server:
        for mode in ("none", "once"):
            played = Engine(Settings(tmp_path, mode, server.url)).play(case)
            assert played.outcome.model_calls == STEPS and played.miss is None
            assert stale.exists() == (mode == "none")
        assert server.counts[200] == 0
    same_as(reference, tmp_path, CASES)


def test_all_records_anew_and_does_not_resume(tmp_path: Path, reference: Path) -> None:
    case = CASES[3]
    with LatencyServer(latency=0.02) as server:
        settings = Settings(tmp_path, "once", server.url)
        play_all(settings, [case], stop_after=4, server=server)
        journal = journal_path(cassette(tmp_path, case))
        assert journal.exists()
        before = server.counts[200]
        Engine(Settings(tmp_path, "all", server.url)).play(case)
        assert server.counts[200] - before == STEPS and not journal.exists()
    same_as(reference, tmp_path, [case])


# -- a real kill -----------------------------------------------------------------------------------

@pytest.mark.slow
def test_kill_9_mid_episodes_then_once_pays_only_the_calls_in_flight(tmp_path: Path, reference: Path) -> None:
    """The contract: 4 release_manager episodes at 0.5 s a call, SIGKILL once 12 calls were
    answered, the same command with --record-mode=once: all 4 episodes ok, at most 84 calls
    paid for the 80 needed (only those in flight at the kill twice), and the cassettes of a
    run never killed."""
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "evals"), "-k", "release_manager", "-p", "no:cacheprovider",
           "--rootdir", str(ROOT), "--model", MODEL, "--record-mode=once", "--drift-no-baseline",
           "--drift-cassette-dir", str(tmp_path / "cassettes"), "--drift-report", str(tmp_path / "report"), "-q"]
    with LatencyServer(latency=0.5) as server:
        args = [*cmd, "--drift-api-base", server.url]
        run = subprocess.Popen(args, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: server.counts[200] >= 12 or run.poll() is not None, 600, "12 answered calls")
        os.kill(run.pid, signal.SIGKILL)
        run.wait()
        # the calls in flight are answered (to no one) and paid: wait until none is left
        wait_until(lambda: server.in_flight == 0, 30, "the killed run's calls in flight to be answered")
        killed = server.counts[200]
        assert 12 <= killed < 80
        journaled = sum(len(lines(j)) for j in tmp_path.rglob(".*.journal"))
        assert not list((tmp_path / "cassettes").rglob("*.yaml")) and journaled >= 12 - len(CASES)
        rerun = subprocess.run(args, cwd=tmp_path, capture_output=True, text=True, timeout=900)  # a deadline, not a pace
        paid = server.counts[200]
    assert "4 episodes will call the model" in rerun.stdout, rerun.stdout[-3000:] + rerun.stderr[-3000:]
    rows = [json.loads(ln)["outcome"] for ln in (tmp_path / "report" / "outcomes.jsonl").read_text().splitlines()]
    assert sorted((o["episode_id"], o["label_status"], o["model_calls"]) for o in rows) == \
        sorted((c.id, "ok", STEPS) for c in CASES)
    assert paid <= len(CASES) * STEPS + len(CASES), paid
    # the rerun's figures (and its --drift-max-cost budget) count what it paid, not what it replayed
    live = re.search(r"4 episodes played live in [^:]*: (\d+) calls", rerun.stdout)
    assert live and int(live.group(1)) == paid - killed, rerun.stdout[-2000:]
    same_as(reference, tmp_path / "cassettes", CASES)


def test_the_estimate_leaves_out_journaled_calls_only_where_the_record_mode_resumes(tmp_path: Path) -> None:
    """Three answered calls in a journal: once and new_episodes replay them (17 to pay of 20),
    all and rewrite start anew (20); once beside a finished cassette replays it, so its
    journal is stale and not subtracted (calls_model leaves that episode out of the plan)."""
    from vcr.request import Request

    from pytest_drift.engine.estimate import estimate_episode
    from pytest_drift.models.journal import Journal

    case = CASES[0]
    journal = Journal(journal_path(case.cassette(tmp_path)))
    for i in range(3):
        journal.write(Request("POST", "http://127.0.0.1/v1/chat/completions", f'{{"n": {i}}}', {}),
                      {"status": {"code": 200, "message": "OK"}, "headers": {}, "body": {"string": "{}"}})
    journal.close()
    calls = {mode: estimate_episode(case, Settings(tmp_path, mode)) for mode in ("once", "new_episodes", "all", "rewrite")}
    assert {m: e.calls for m, e in calls.items()} == {"once": 17, "new_episodes": 17, "all": 20, "rewrite": 20}
    assert calls["once"].calls_max == calls["all"].calls_max - 3
    # call i sends the opening prompt p0 plus 200 tokens per call before it: the three journaled
    # calls were the first three, p0 + (p0 + 200) + (p0 + 400)
    p0 = (calls["all"].prompt_tokens - 200 * (20 * 19 // 2)) // 20
    assert calls["once"].prompt_tokens == calls["all"].prompt_tokens - (3 * p0 + 600)
    case.cassette(tmp_path).write_text("interactions: []\n")
    assert estimate_episode(case, Settings(tmp_path, "once")).calls == 20
