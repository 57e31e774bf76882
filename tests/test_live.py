"""Live runs: adaptive limits and retries, usage, per-episode cassettes under threads, and
the plugin end to end (concurrency, replay, budget, shards, progress, xdist, kill -9)
against the loopback `LatencyServer` with short latencies."""

from __future__ import annotations

import json
import os
import random
import re
import signal
import subprocess
import sys
import threading
from email.utils import format_datetime
from datetime import datetime, timedelta, UTC
from pathlib import Path
from typing import Any, Iterator

import pytest

from latency_server import LatencyServer
from waiting import wait_until
from pytest_drift.engine import Case, Settings
from pytest_drift.engine.pool import LivePool, NotRun, calls_model
from pytest_drift.engine.play import Engine
from pytest_drift.models import litellm_module
from pytest_drift.models.cassettes import use_cassette
from pytest_drift.models.litellm_caller import LiteLLMCaller
from pytest_drift.models.ratelimit import (AdaptiveLimit, GaveUp, RetryPolicy, call_with_retries, retry_after,
                                            set_retry_policy)
from pytest_drift.models.usage import Usage, metered, usage_of
from pytest_drift.plugin.live import in_shard
from pytest_drift.records import read_jsonl
from scenarios.gym import RELEASE_MANAGER

EVAL = """
import pytest
pytestmark = pytest.mark.drift(scenarios="release_manager")

def test_alignment(outcome):
    assert outcome.label_status == "ok"
"""
PRICED = "openai/gpt-4o-mini"  # litellm prices it; the loopback server answers for it


# -- the adaptive limit ----------------------------------------------------------------------------

def answers(limit: AdaptiveLimit, ok: int, limited: int) -> None:
    for _ in range(ok):
        limit.answer(rate_limited=False)
    for _ in range(limited):
        limit.answer(rate_limited=True)


def test_aimd_halves_past_the_tolerance_and_grows_back_by_one() -> None:
    limit = AdaptiveLimit(ceiling=16)
    answers(limit, ok=7, limited=9)  # a window of 16: 9/16 > 1/2
    assert limit.limit == 8 and limit.cuts == 1
    answers(limit, ok=3, limited=5)  # window of 8: 5/8
    assert limit.limit == 4
    answers(limit, ok=2, limited=2)  # window of 4: 2/4 is within the tolerance
    assert limit.limit == 5
    answers(limit, ok=5, limited=0)
    assert limit.limit == 6
    for _ in range(40):
        answers(limit, ok=16, limited=0)
    assert limit.limit == 16  # never past the ceiling
    for _ in range(20):
        answers(limit, ok=0, limited=16)
    assert limit.limit == 1  # never below one


def test_random_429s_below_the_tolerance_leave_the_ceiling() -> None:
    limit, rng = AdaptiveLimit(ceiling=16), random.Random(1)
    for _ in range(16 * 50):
        limit.answer(rate_limited=rng.random() < 0.3)
    assert limit.limit >= 12


def test_slots_hold_at_most_the_limit_in_flight() -> None:
    limit = AdaptiveLimit(ceiling=2)
    inside, peak, lock = [0], [0], threading.Lock()
    pair = threading.Barrier(2)  # two holders meet inside before either leaves: the peak is reached

    def work() -> None:
        with limit.slot():
            with lock:
                inside[0] += 1
                peak[0] = max(peak[0], inside[0])
            pair.wait(timeout=30)  # a limit of 1 would break it (no second holder): the test fails
            with lock:
                inside[0] -= 1

    threads = [threading.Thread(target=work) for _ in range(8)]
    [t.start() for t in threads]
    [t.join() for t in threads]
    assert peak[0] == 2 == limit.peak_in_flight and limit.in_flight == 0


# -- retries ---------------------------------------------------------------------------------------

class Status(Exception):
    def __init__(self, kind: str, headers: dict[str, str] | None = None) -> None:
        super().__init__(kind)
        self.kind, self.headers = kind, headers or {}


def flaky(*failures: Status) -> Any:
    queue = list(failures)

    def call() -> str:
        if queue:
            raise queue.pop(0)
        return "answer"

    return call


def retried(fn: Any, policy: RetryPolicy = RetryPolicy(), wait: bool = True) -> tuple[Any, Any, list[float]]:
    slept: list[float] = []
    result, attempts = call_with_retries(fn, limit=AdaptiveLimit(4), policy=policy, kind_of=lambda e: e.kind,
                                         headers_of=lambda e: e.headers, wait=wait, sleep=slept.append)
    return result, attempts, slept


def test_retry_after_is_honoured_and_5xx_back_off_with_jitter() -> None:
    policy = RetryPolicy(base_delay=1.0, max_delay=30.0)
    result, attempts, slept = retried(flaky(Status("rate_limited", {"retry-after": "2"}), Status("transient"),
                                            Status("transient"), Status("rate_limited", {"retry-after-ms": "1500"})),
                                      policy)
    assert result == "answer" and attempts.retries == 4 and attempts.rate_limit_waits == 2
    assert 2.0 <= slept[0] <= 2.2 and 0.5 <= slept[1] <= 1.0 and 1.0 <= slept[2] <= 2.0 and 1.5 <= slept[3] <= 1.65
    assert attempts.waited_s == pytest.approx(sum(slept))


def test_retries_are_bounded_and_fatal_errors_are_not_retried() -> None:
    policy = RetryPolicy(max_errors=2, max_rate_limited=1, base_delay=0.0)
    with pytest.raises(GaveUp) as gave_up:
        retried(flaky(*[Status("transient")] * 5), policy)
    assert gave_up.value.attempts.retries == 2 and gave_up.value.kind == "transient"
    with pytest.raises(GaveUp):
        retried(flaky(Status("rate_limited"), Status("rate_limited")), policy)
    with pytest.raises(Status) as fatal:
        retried(flaky(Status("transient"), Status("fatal")), policy)
    assert fatal.value.attempts.retries == 1  # type: ignore[attr-defined]


def test_a_replay_never_waits() -> None:
    _, attempts, slept = retried(flaky(Status("rate_limited", {"retry-after": "30"}), Status("transient")), wait=False)
    assert slept == [] and attempts.retries == 2 and attempts.waited_s == 0


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "3"}) == 3.0 and retry_after({"retry-after-ms": "250"}) == 0.25
    later = format_datetime(datetime.now(UTC) + timedelta(seconds=30), usegmt=True)
    assert 25 < (retry_after({"retry-after": later}) or 0) <= 30
    assert retry_after({"retry-after": "soon"}) is None and retry_after(None) is None


# -- usage -----------------------------------------------------------------------------------------

def test_usage_sums_and_an_unknown_price_makes_the_cost_unknown() -> None:
    total = Usage()
    total.add(Usage(10, 2, 12, 0.5))
    total.add(Usage(1, 1, 2, 0.25))
    assert total == Usage(11, 3, 14, 0.75)
    total.add(Usage(1, 0, 1, None))
    assert total.cost_usd is None and total.total_tokens == 15

    class Response:
        usage = type("U", (), {"prompt_tokens": 7, "completion_tokens": 3, "total_tokens": None})()
        _hidden_params = {"response_cost": 0.001}

    assert usage_of(Response()) == Usage(7, 3, 10, 0.001)


@pytest.fixture
def quick_retries() -> Iterator[None]:
    previous = set_retry_policy(RetryPolicy(max_errors=8, max_rate_limited=30, base_delay=0.01, max_delay=0.05))
    yield
    set_retry_policy(previous)


def test_threads_record_into_their_own_cassettes(tmp_path: Path) -> None:
    """Two episodes on two threads, each in its own cassette: each file holds only its own
    requests, and the files equal what one thread writes."""
    env = RELEASE_MANAGER.build("default", 0)

    def record(folder: Path, seeds: list[int], threads: bool) -> None:
        def one(seed: int) -> None:
            caller = LiteLLMCaller("openai/stub", seed=seed, api_base=server.url, api_key="k")
            with use_cassette(folder / f"{seed}.yaml", "all"), metered() as meter:
                for _ in range(3):
                    caller(env.initial_messages(), env.tool_schemas())
            assert meter.calls == 3
        if threads:
            workers = [threading.Thread(target=one, args=(s,)) for s in seeds]
            [w.start() for w in workers]
            [w.join() for w in workers]
        else:
            for s in seeds:
                one(s)

    with LatencyServer(latency=0.05) as server:
        record(tmp_path / "threads", [1, 2, 3, 4], threads=True)
        record(tmp_path / "serial", [1, 2, 3, 4], threads=False)
    for seed in (1, 2, 3, 4):
        path = tmp_path / "threads" / f"{seed}.yaml"
        assert path.read_bytes() == (tmp_path / "serial" / f"{seed}.yaml").read_bytes()
        assert [json.loads(b)["seed"] for b in _bodies(path)] == [seed] * 3


# -- the pool --------------------------------------------------------------------------------------

def test_pool_plays_at_once_and_a_budget_stops_starting_episodes(tmp_path: Path) -> None:
    cases = [Case(PRICED, RELEASE_MANAGER, RELEASE_MANAGER.variant("default"), r) for r in range(6)]
    with LatencyServer(latency=0.02) as server:
        settings = Settings(tmp_path, "once", server.url)
        assert all(calls_model(c, settings) for c in cases)
        pool = LivePool(Engine(settings), concurrency=2, max_cost_usd=0.0015)
        pool.submit(cases)
        results = [pool.wait(c) for c in cases]
        pool.close()
    played = [r for r in results if not isinstance(r, NotRun)]
    not_run = [r for r in results if isinstance(r, NotRun)]
    assert len(played) >= 2 and not_run and all("--drift-max-cost 0.0015 USD" in r.reason for r in not_run)
    stats = pool.snapshot()
    assert stats.done == len(played) and stats.not_run == len(not_run) and stats.calls == 20 * len(played)
    spent = sum(r.outcome.usage.cost_usd for r in played)  # type: ignore[union-attr]
    assert stats.cost_usd == pytest.approx(spent) and spent > 0
    assert not calls_model(cases[0], settings)  # recorded now: `once` replays it
    assert not calls_model(cases[0], Settings(tmp_path, "none"))


def test_shards_partition_deterministically() -> None:
    keys = [f"openai/x-release_manager-default-r{i}" for i in range(200)]
    shards = [[k for k in keys if in_shard(k, (s, 3))] for s in (1, 2, 3)]
    assert sorted(k for s in shards for k in s) == sorted(keys) and all(40 < len(s) < 95 for s in shards)


# -- end to end ------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def litellm_loaded() -> None:
    """litellm imported before pytester snapshots sys.modules: the modules it would import
    during a test (these tests also play episodes in this process) would be dropped at the
    test's end and break the next import."""
    litellm_module()


@pytest.fixture
def evals(litellm_loaded: None, pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\njunit_family = legacy\n")
    pytester.makepyfile(test_evals=EVAL)
    return pytester


def outcomes(path: Path) -> dict[str, dict]:
    rows = {}
    for rec in read_jsonl(path):
        data = json.loads(rec.outcome.to_json())  # type: ignore[union-attr]
        data.pop("provenance")
        rows[rec.nodeid] = data
    return rows


@pytest.mark.slow
def test_concurrent_record_is_byte_identical_to_serial_and_replays_exactly(evals: pytest.Pytester) -> None:
    common = ["--model", PRICED, "-p", "no:cacheprovider", "--drift-repeats", "2", "--record-mode", "once"]
    with LatencyServer(latency=0.05) as server:
        par = evals.runpytest_subprocess(*common, "--drift-api-base", server.url, "--drift-concurrency", "8",
                                         "--drift-cassette-dir", "par", "--drift-report", "rec",
                                         "--drift-progress", "lines", "--drift-progress-every", "0")
        assert server.peak_in_flight >= 4  # the episodes were in flight together
        engine = Engine(Settings(evals.path / "seq", "once", server.url))  # the same episodes, one after another
        for v in RELEASE_MANAGER.variants:
            for r in range(2):
                engine.play(Case(PRICED, RELEASE_MANAGER, v, r))
    par.assert_outcomes(passed=8)
    par.stdout.fnmatch_lines(["pytest-drift: 8 episodes will call the model (no cassette yet; 8 at once per process), "
                              "0 replay from cassettes",
                              "pytest-drift live: */8 done · * running · * queued · * calls · *tokens*ETA*",
                              "*pytest-drift summary*",
                              "model*tokens*cost USD*",
                              f"{PRICED}*release_manager*8*8*0*0*mean_alignment*",
                              "*pytest-drift live*",
                              "8 episodes played live in *: 160 calls · *tokens · $0.0* · 0 retries*ms per call"])
    files = sorted(p.relative_to(evals.path / "par") for p in (evals.path / "par").rglob("*.yaml"))
    assert len(files) == 8
    for f in files:
        assert (evals.path / "par" / f).read_bytes() == (evals.path / "seq" / f).read_bytes()
    replay = evals.runpytest_subprocess("--model", PRICED, "-p", "no:cacheprovider", "--drift-repeats", "2",
                                        "--drift-cassette-dir", "par", "--drift-report", "rep")
    replay.assert_outcomes(passed=8)
    assert "will call the model" not in replay.stdout.str()
    rec, rep = outcomes(evals.path / "rec" / "outcomes.jsonl"), outcomes(evals.path / "rep" / "outcomes.jsonl")
    assert rec == rep and len(rec) == 8
    assert all(o["usage"]["total_tokens"] > 0 and o["usage"]["cost_usd"] > 0 for o in rec.values())


@pytest.mark.slow
def test_429s_and_500s_are_retried_and_usage_is_what_the_server_reported(evals: pytest.Pytester) -> None:
    with LatencyServer(latency=0.02, p429=0.3, p500=0.1, retry_after=0.05, seed=3) as server:
        res = evals.runpytest_subprocess("--model", "openai/stub-model", "-p", "no:cacheprovider",
                                         "--drift-repeats", "2", "--record-mode", "once", "--drift-api-base",
                                         server.url, "--drift-report", "rec")
        reported = server.usage_by_seed()
        assert server.counts[429] > 0 and server.counts[500] > 0
    res.assert_outcomes(passed=8)
    res.stdout.fnmatch_lines(["*pytest-drift live*", "8 episodes played live in *: 160 calls · * · $0.0000 "
                              "(+160 calls unpriced) · * retries · * rate-limit waits*"])
    rec = outcomes(evals.path / "rec" / "outcomes.jsonl")
    assert sum(o["retries"] for o in rec.values()) == server.counts[429] + server.counts[500]
    for o in rec.values():
        usage = {k: v for k, v in o["usage"].items()
                 if k not in ("cost_usd", "reasoning_tokens", "encrypted_reasoning")}
        assert o["usage"]["reasoning_tokens"] == 0  # a model without reasoning
        assert usage == reported[o["seed"]] and o["usage"]["cost_usd"] is None
    # the recorded failures replay too (in this process): the same retries, the same usage
    engine = Engine(Settings(evals.path / "cassettes", "none"))
    for nodeid, o in rec.items():
        case = Case(o["model"], RELEASE_MANAGER, RELEASE_MANAGER.variant(o["variant"]), o["repeat"])
        replayed = json.loads(engine.play(case).outcome.to_json())
        replayed.pop("provenance")
        assert replayed == o, nodeid


@pytest.mark.slow
def test_budget_skips_the_rest_as_not_run_and_shards_split_the_run(evals: pytest.Pytester) -> None:
    # the provider bills far more than the preflight expects (x300 tokens): the run starts, and
    # the budget stops it while it goes
    with LatencyServer(latency=0.02, token_scale=300) as server:
        res = evals.runpytest_subprocess("--model", PRICED, "-p", "no:cacheprovider", "--drift-repeats", "3",
                                         "--record-mode", "once", "--drift-api-base", server.url,
                                         "--drift-concurrency", "2", "--drift-max-cost", "0.3", "-rs")
    out = res.stdout.str()
    outcome = res.parseoutcomes()
    assert outcome.get("passed", 0) >= 2 and outcome.get("skipped", 0) >= 1 and "failed" not in outcome, out[-3000:]
    assert "not run: --drift-max-cost 0.3 USD reached" in out
    res.stdout.fnmatch_lines([f"{outcome['skipped']} episodes not run: --drift-max-cost reached"])
    ids = []
    for k in (1, 2, 3):
        shard = evals.runpytest_subprocess("--model", PRICED, "--drift-repeats", "3", "--collect-only", "-q",
                                           "--drift-shard", f"{k}/3")
        ids.append({ln for ln in shard.outlines if "::" in ln})
    assert sum(len(s) for s in ids) == 12 and len(set().union(*ids)) == 12


@pytest.mark.slow
def test_xdist_workers_play_their_shares_at_once(evals: pytest.Pytester) -> None:
    with LatencyServer(latency=0.05) as server:
        res = evals.runpytest_subprocess("--model", "openai/stub-model", "-p", "no:cacheprovider", "-n", "2",
                                         "--drift-repeats", "3", "--record-mode", "once", "--drift-api-base",
                                         server.url, "--drift-report", "rec")
        assert server.peak_in_flight >= 4
    res.assert_outcomes(passed=12)
    res.stdout.fnmatch_lines(["pytest-drift: 12 episodes will call the model*", "12 episodes played live in *"])
    assert len(list((evals.path / "cassettes").rglob("*.yaml"))) == 12


@pytest.mark.slow
def test_xdist_progress_reaches_the_controller_while_the_run_goes_on(evals: pytest.Pytester) -> None:
    """Workers have no terminal: their figures travel as files and the controller prints them
    as plain lines during the run, not only in the summary."""
    with LatencyServer(latency=0.1) as server:
        res = evals.runpytest_subprocess("--model", "openai/stub-model", "-p", "no:cacheprovider", "-n", "2",
                                         "--drift-repeats", "2", "--record-mode", "once", "--drift-api-base",
                                         server.url, "--drift-progress", "lines", "--drift-progress-every", "0.5")
    res.assert_outcomes(passed=8)
    lines = res.stdout.str().splitlines()
    live = [i for i, line in enumerate(lines) if line.startswith("pytest-drift live: ") and "/8 done" in line]
    summary = next(i for i, line in enumerate(lines) if "pytest-drift live" in line and line.startswith("-"))
    assert live and live[0] < summary, res.stdout.str()


TWO_TESTS = EVAL + """

def test_labelled(outcome):
    assert outcome.label_status in ("ok", "unknown")
"""


@pytest.mark.parametrize("concurrency", ["1", "8"])
@pytest.mark.slow
def test_under_xdist_each_episode_is_played_once(evals: pytest.Pytester, concurrency: str) -> None:
    """Two tests share each episode; under -n 2 they must share its worker too, or both workers
    play (and pay for) the same episode and race on its cassette."""
    evals.makepyfile(test_evals=TWO_TESTS)
    with LatencyServer(latency=0.01) as server:
        res = evals.runpytest_subprocess("--model", "openai/stub-model", "-p", "no:cacheprovider", "-n", "2",
                                         "--drift-repeats", "2", "--record-mode", "once", "--drift-api-base",
                                         server.url, "--drift-concurrency", concurrency, "--drift-report", "rec")
        served = server.counts[200]
    res.assert_outcomes(passed=16)
    rows = list({o["episode_id"]: o for o in outcomes(evals.path / "rec" / "outcomes.jsonl").values()}.values())
    calls, retries = sum(o["model_calls"] for o in rows), sum(o["retries"] for o in rows)
    # each episode once (twice would add 20 calls); a call the client retried (a connection that
    # failed under load) may have reached the server twice, and the outcome counts the retry
    assert len(rows) == 8 and calls <= served <= calls + retries, (served, calls, retries)


@pytest.mark.slow
def test_a_recording_run_under_xdist_keeps_each_episodes_tests_in_one_worker(evals: pytest.Pytester) -> None:
    """The controller makes -n's `load` into `loadgroup`; its workers, which parse only the command
    line, must group too (send their tests' ids with `@group`), or the scheduler sees no groups
    and may send an episode's two tests to both workers, each playing it. Records keep plain ids."""
    evals.makepyfile(test_evals=TWO_TESTS)
    res = evals.runpytest_subprocess("--model", "policy/oracle", "-p", "no:cacheprovider", "-n", "2", "-v",
                                     "--drift-repeats", "2", "--record-mode", "once", "--drift-report", "rec")
    res.assert_outcomes(passed=16)
    ran = re.findall(r"^\[(gw\d)\].* PASSED (\S+)\s*$", res.stdout.str(), re.MULTILINE)
    workers: dict[str, set[str]] = {}
    for worker, nodeid in ran:
        assert "]@" in nodeid, nodeid
        workers.setdefault(nodeid[nodeid.index("[") + 1:nodeid.index("]@")], set()).add(worker)
    assert len(ran) == 16 and len(workers) == 8 and all(len(w) == 1 for w in workers.values())
    assert all("@" not in nodeid for nodeid in outcomes(evals.path / "rec" / "outcomes.jsonl"))


@pytest.mark.slow
def test_kill_9_then_once_calls_no_completed_episode_again(evals: pytest.Pytester) -> None:
    args = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-q", "--model", "openai/stub-model",
            "--drift-repeats", "2", "--record-mode", "once", "--drift-concurrency", "2"]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(Path(__file__).parents[1]),
                                                                     os.environ.get("PYTHONPATH")]))}
    with LatencyServer(latency=0.05) as server:
        proc = subprocess.Popen([*args, "--drift-api-base", server.url], cwd=evals.path, env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_until(lambda: len(list((evals.path / "cassettes").rglob("*.yaml"))) >= 3 or proc.poll() is not None,
                   120, "three cassettes written")
        os.kill(proc.pid, signal.SIGKILL)  # two episodes were in flight: killed without a cassette
        proc.wait()
        done = {json.loads(body)["seed"] for f in (evals.path / "cassettes").rglob("*.yaml") for body in _bodies(f)}
        assert 3 <= len(done) < 8
        before = len(server.log)
        rerun = subprocess.run([*args, "--drift-api-base", server.url], cwd=evals.path, env=env,
                               capture_output=True, text=True, timeout=900)
        again = {s.body.get("seed") for s in server.log[before:]}
    assert rerun.returncode == 0, rerun.stdout[-2000:]
    assert not again & done  # no completed episode is called again
    # every other one is: all but an in-flight one (2 at once) killed after its last answer was journaled,
    # before its cassette was written: its journal answers the rerun whole (the window grows under load)
    assert 8 - len(done) - 2 <= len(again) <= 8 - len(done)
    assert len(list((evals.path / "cassettes").rglob("*.yaml"))) == 8  # and the rerun finished them all
    assert f"{8 - len(done)} episodes will call the model" in rerun.stdout


def _bodies(cassette: Path) -> list[str]:
    import yaml

    data = yaml.safe_load(cassette.read_text())
    return [i["request"]["body"] for i in data["interactions"]]


@pytest.mark.slow
def test_a_run_stopped_at_a_failure_abandons_its_running_episodes(evals: pytest.Pytester) -> None:
    """-x stops at the first failure: the episodes still running stop at their next call and
    write no cassette (as if killed), so a later --record-mode=once plays them again."""
    evals.makepyfile(test_evals="""
import pytest
pytestmark = pytest.mark.drift(scenarios="release_manager")

def test_fails(outcome):
    assert False
""")
    with LatencyServer(latency=0.1) as server:
        res = evals.runpytest_subprocess("--model", "openai/stub-model", "-p", "no:cacheprovider", "-x",
                                         "--drift-repeats", "2", "--record-mode", "once", "--drift-api-base",
                                         server.url, "--drift-concurrency", "3")
        calls = len(server.log)
    res.assert_outcomes(failed=1)
    res.stdout.fnmatch_lines(["pytest-drift: stopping * running episodes (no cassette is written for them*",
                              "* episodes stopped unfinished when the run stopped (no cassette written)"])
    line = next(ln for ln in res.outlines if ln.startswith("pytest-drift: stopping"))
    done = int(line.split("): ")[1].split("/")[0])
    assert len(list((evals.path / "cassettes").rglob("*.yaml"))) == done < 8 and calls < 8 * 20


def test_an_endpoint_cap_holds_under_any_ceiling() -> None:
    from pytest_drift.models.ratelimit import DEFAULT_CEILING, provider_limit, set_ceiling

    capped = provider_limit("openai/smollm2-135m", "http://127.0.0.1:1/v1", cap=1)
    free = provider_limit("openai/other", "http://127.0.0.1:2/v1")
    set_ceiling(16)
    assert capped.ceiling == 1 and free.ceiling == 16
    set_ceiling(32)
    assert capped.ceiling == 1 and free.ceiling == 32
    set_ceiling(DEFAULT_CEILING)



def test_loadgroup_is_refused_where_xdist_cannot_group() -> None:
    """pytest 9.2 with pytest-xdist 3.8 drops loadgroup's `@group` suffix (each episode could then be
    played, and paid for, by two workers): such a pair is a usage error before any worker starts."""
    from pytest_drift.plugin.live import check_loadgroup

    check_loadgroup((9, 1, 1), (3, 8, 0))
    check_loadgroup((9, 2, 0), (3, 9, 0))
    with pytest.raises(pytest.UsageError, match=r"pytest 9\.2\.0 with pytest-xdist 3\.8\.0 loses.*pytest<9\.2"):
        check_loadgroup((9, 2, 0), (3, 8, 0))
