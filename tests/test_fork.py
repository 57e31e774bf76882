"""Forks: a recorded episode continued from its step K by another model, offline-replayable,
with its provenance; interventions labelled; bad input refused before any call."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from openai_stub_server import StubServer

ROOT = Path(__file__).resolve().parents[1]
SOURCE = "openai/alpha-release_manager-default-r0"


def evals(tmp: Path, *flags: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pytest", str(ROOT / "evals"), "-p", "no:cacheprovider",
                           "--rootdir", str(ROOT), "--drift-cassette-dir", str(tmp / "c"), "--drift-no-baseline",
                           *flags], cwd=tmp, capture_output=True, text=True, timeout=600)


def outcomes(path: Path) -> list[dict[str, Any]]:
    rows = [json.loads(line)["outcome"] for line in path.read_text().splitlines()]
    return list({o["episode_id"]: o for o in rows}.values())


@pytest.fixture(scope="module")
def recorded(tmp_path_factory: pytest.TempPathFactory) -> Path:
    tmp = tmp_path_factory.mktemp("fork")
    with StubServer() as alpha:
        res = evals(tmp, "-k", "release_manager and default", "--model", "openai/alpha", "--drift-api-base",
                    alpha.url, "--record-mode", "once", "--drift-report", str(tmp / "src"))
    assert (tmp / "c" / "openai__alpha" / "release_manager" / "default" / "r0.yaml").is_file(), res.stdout[-2000:]
    return tmp


@pytest.mark.slow
def test_a_fork_pays_only_from_step_k_and_replays_offline(recorded: Path) -> None:
    with StubServer(mode="reckless") as beta:
        res = evals(recorded, "--drift-fork", f"{SOURCE}@5", "--model", "openai/beta", "--drift-api-base", beta.url,
                    "--record-mode", "all", "--drift-report", str(recorded / "fork"))
        paid = len(beta.requests)
        replay = evals(recorded, "--drift-fork", f"{SOURCE}@5", "--model", "openai/beta", "--drift-api-base",
                       beta.url, "--drift-report", str(recorded / "replay"))
        assert len(beta.requests) == paid, "the replay of a fork reached the provider"
    assert paid == 15, res.stdout[-2000:]  # 20 steps - 5
    assert "openai/beta: 1 episodes, 15 calls expected" in res.stdout  # the preflight priced what was paid
    (fork,) = outcomes(recorded / "fork" / "outcomes.jsonl")
    (source,) = outcomes(recorded / "src" / "outcomes.jsonl")
    assert fork["episode_id"] == f"{SOURCE}@5->openai/beta" and fork["model"] == "openai/beta" and fork["steps"] == 20
    assert [t for t in fork["trace"] if t["step"] < 5] == [t for t in source["trace"] if t["step"] < 5]
    assert [t for t in fork["trace"] if t["step"] >= 5] != [t for t in source["trace"] if t["step"] >= 5]
    prov = fork["provenance"]
    assert prov["fork_of"] == SOURCE and prov["fork_step"] == "5" and len(prov["fork_source_sha256"]) == 64
    (again,) = outcomes(recorded / "replay" / "outcomes.jsonl")
    assert again["trace"] == fork["trace"] and again["metrics"] == fork["metrics"]
    assert "@5->openai/beta" in replay.stdout
    from pytest_drift.cli import main

    # the source's and the fork's outcomes in one report: the Forks table puts them side by side
    assert main(["report", str(recorded / "src" / "outcomes.jsonl"), str(recorded / "fork" / "outcomes.jsonl"),
                 "-o", str(recorded / "merged"), "--no-references", "--no-plots", "--format", "csv"]) == 0
    (row,) = json.loads((recorded / "merged" / "report.json").read_text())["tables"]["forks"]
    acts = lambda o, s: [(t["tool"], t["arguments"]) for t in o["trace"] if t["step"] == s]  # noqa: E731
    first = next(s for s in range(20) if acts(fork, s) != acts(source, s))
    assert (row["source"], row["fork_step"], row["model"], row["intervened"]) == (SOURCE, 5, "openai/beta (fork)", False)
    assert row["diverges_at"] == first >= 5 and row["source_value"] == source["metrics"][source["headline"]]


@pytest.mark.slow
def test_an_intervention_is_part_of_the_forks_identity_and_conversation(recorded: Path) -> None:
    with StubServer() as beta:
        evals(recorded, "--drift-fork", f"{SOURCE}@3", "--model", "openai/beta", "--drift-api-base", beta.url,
              "--record-mode", "once", "--drift-fork-message", "Reminder: safety first.",
              "--drift-report", str(recorded / "intervened"))
    (o,) = outcomes(recorded / "intervened" / "outcomes.jsonl")
    assert "+intervened-" in o["episode_id"] and o["provenance"]["fork_intervention"] == "Reminder: safety first."
    first = beta.requests[0]["body"]["messages"]
    assert first[-1] == {"role": "user", "content": "Reminder: safety first."}


def test_bad_forks_are_refused_with_what_to_do(recorded: Path) -> None:
    from pytest_drift.engine import Engine, Settings
    from pytest_drift.engine.fork import ForkError, check_fork, parse_fork
    from pytest_drift.registry import load_scenarios

    registry, root = load_scenarios(), recorded / "c"
    with pytest.raises(ForkError, match="nearest recorded: openai/alpha-release_manager-default-r0"):
        parse_fork("openai/alpha-release_manager-defualt-r0@5", root, registry)
    with pytest.raises(ForkError, match=r"nearest recorded: openai/alpha-.* \(\d+ episodes under "):
        parse_fork("zzz@5", root, registry)  # nothing close: still the recorded ids, never "nothing is recorded"
    with pytest.raises(ForkError, match="nothing is recorded under"):
        parse_fork(f"{SOURCE}@5", recorded / "empty", registry)
    with pytest.raises(ForkError, match="expected EPISODE_ID@K"):
        parse_fork(SOURCE, root, registry)
    source, k = parse_fork(f"{SOURCE}@99", root, registry)
    replay = Engine(Settings(root, record_mode="none")).play
    with pytest.raises(ForkError, match=r"K must lie in 0\.\.20"):
        check_fork(source, k, replay)
    assert check_fork(source, 5, replay) == 20


@pytest.mark.slow
def test_a_fork_onto_a_policy_is_a_usage_error_before_any_call(recorded: Path) -> None:
    res = evals(recorded, "--drift-fork", f"{SOURCE}@5", "--model", "policy/oracle")
    assert res.returncode == pytest.ExitCode.USAGE_ERROR and "a fork continues with a model" in res.stderr


def show_step(capsys: pytest.CaptureFixture[str], recorded: Path, episode: str, *flags: str) -> tuple[int, str, str]:
    from pytest_drift.cli import main

    rc = main(["show", episode, "--cassettes", str(recorded / "c"), *flags])
    out, err = capsys.readouterr()
    return rc, out, err


def test_show_step_rebuilds_the_checkpoint_offline(recorded: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    import socket

    def refuse(*_: Any) -> None:
        raise AssertionError("show --step reached the network")

    monkeypatch.setattr(socket.socket, "connect", refuse)  # the replay must come from the cassette alone
    rc, out, _ = show_step(capsys, recorded, SOURCE, "--step", "5", "--json")
    assert rc == 0
    at5 = json.loads(out)
    assert show_step(capsys, recorded, SOURCE, "--step", "5", "--json")[1] == out  # same bytes every time
    assert at5["snapshot"]["step"] == 5 and at5["episode_id"] == SOURCE
    (source,) = outcomes(recorded / "src" / "outcomes.jsonl")
    calls = [c["function"]["name"] for m in at5["messages"] for c in m.get("tool_calls") or []]
    assert calls == [t["tool"] for t in source["trace"] if t["step"] < 5]  # the source's first 5 steps, no more
    at0 = json.loads(show_step(capsys, recorded, SOURCE, "--step", "0", "--json")[1])
    assert at0["snapshot"]["step"] == 0 and at0["snapshot"] != at5["snapshot"]
    assert at0["messages"] == at5["messages"][:len(at0["messages"])]
    partial = show_step(capsys, recorded, "alpha-release_manager-default", "--step", "0", "--json")[1]
    assert json.loads(partial) == at0  # any part of an id that names one recorded episode
    rc, text, _ = show_step(capsys, recorded, SOURCE, "--step", "5")
    assert rc == 0 and "world state at step 5 (snapshot):" in text and text.count("[assistant") == 5


def test_show_step_refuses_a_step_out_of_range_and_names_the_nearest_ids(
        recorded: Path, capsys: pytest.CaptureFixture[str]) -> None:
    rc, out, err = show_step(capsys, recorded, SOURCE, "--step", "21")
    assert rc == 2 and not out and "K must lie in 0..20" in err
    assert show_step(capsys, recorded, SOURCE, "--step", "-1")[0] == 2
    rc, _, err = show_step(capsys, recorded, SOURCE.replace("default", "defualt"), "--step", "3")
    assert rc == 1 and f"nearest recorded: {SOURCE}" in err


def test_plain_show_imports_neither_litellm_nor_the_engine(tmp_path: Path) -> None:
    code = ("import sys; from pytest_drift.cli import main; main(['show', 'x', sys.argv[1]]); "
            "print(sorted(m for m in ('litellm', 'pytest_drift.engine') if m in sys.modules))")
    res = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True, timeout=60)
    assert res.stdout.strip() == "[]", res.stderr


def test_a_forks_estimate_counts_only_its_own_steps_and_calls(tmp_path: Path) -> None:
    """The preflight of a fork at K prices steps K.. (the prefix replays from the source's
    cassette), each call carrying the prefix's history; its journal is subtracted too."""
    from pytest_drift.engine import Case, Settings
    from pytest_drift.engine.estimate import estimate_episode
    from pytest_drift.engine.fork import ForkCase
    from pytest_drift.registry import load_scenarios

    sc = load_scenarios()["release_manager"]
    plain = Case("openai/beta", sc, sc.variant("default"), 0)
    fork = ForkCase("openai/beta", sc, sc.variant("default"), 0, source_model="openai/alpha", at_step=5)
    settings = Settings(tmp_path, "once")
    whole, forked = estimate_episode(plain, settings), estimate_episode(fork, settings)
    assert (whole.calls, forked.calls) == (20, 15) and forked.calls_max == whole.calls_max * 15 // 20
    p0 = (whole.prompt_tokens - 200 * (20 * 19 // 2)) // 20  # call i sends p0 + 200 i
    assert forked.prompt_tokens == sum(p0 + 200 * i for i in range(5, 20))
    assert estimate_episode(ForkCase("openai/beta", sc, sc.variant("default"), 0, source_model="openai/alpha",
                                     at_step=20), settings).calls == 0


def test_show_step_of_a_source_that_no_longer_replays_says_so(recorded: Path, tmp_path: Path,
                                                             capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    import yaml

    shutil.copytree(recorded / "c", tmp_path / "c")
    cassette = tmp_path / "c" / "openai__alpha" / "release_manager" / "default" / "r0.yaml"
    data = yaml.safe_load(cassette.read_text())
    first = data["interactions"][0]["request"]
    assert "You are the release manager" in first["body"]
    first["body"] = first["body"].replace("You are the release manager", "You are the release steward")
    cassette.write_text(yaml.safe_dump(data))  # the first prompt it recorded is not the one asked now
    rc, out, err = show_step(capsys, tmp_path, SOURCE, "--step", "3")
    assert rc == 2 and not out and "no longer replays" in err and "model call 0" in err


@pytest.mark.slow
def test_under_xdist_the_controller_plans_and_prices_the_forks(recorded: Path) -> None:
    """The controller collects nothing under -n: it finds the run's cases by their node ids, forks
    included (the same enumeration as collection's), so its plan line and budget count them."""
    with StubServer() as beta:
        res = evals(recorded, "--drift-fork", f"{SOURCE}@5", "--model", "openai/beta", "--drift-api-base", beta.url,
                    "--record-mode", "all", "--drift-plan", "-n", "2")
        assert beta.requests == [], "--drift-plan called the model"
    assert "pytest-drift: 1 episodes will call the model" in res.stdout, res.stdout[-3000:]
    assert "openai/beta: 1 episodes, 15 calls expected" in res.stdout, res.stdout[-3000:]
