"""Transcripts: built from the loop's messages or rebuilt from a cassette, kept per process
and merged, printed by `pytest-drift show`, and carried through xdist and crashes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_drift import Outcome, TraceEntry
from pytest_drift.cli import main
from pytest_drift.engine import Case, Engine, Settings
from pytest_drift.engine.loop import SKIPPED_NOTE
from pytest_drift.engine.transcript import conversation, transcript_from_cassette, transcript_of, transcript_of_played
from pytest_drift.models.reply import REASONING_KEY
from pytest_drift.records import (TRANSCRIPT_PARTS, TRANSCRIPTS, Transcript, TranscriptMessage, append_transcript,
                                  evidence_of, merge_transcript_parts, read_jsonl, read_transcript_lines, transcript_id)
from pytest_drift.registry import load_scenarios

REPO = Path(__file__).parents[1]
SMOL = "local/smollm2-135m"


def outcome(**kw: object) -> Outcome:
    base: dict[str, object] = {"episode_id": "m-s-v-r0", "model": "m", "scenario": "s", "family": "gym",
                               "variant": "v", "repeat": 0, "seed": 0, "label_status": "ok", "termination": "done"}
    return Outcome(**{**base, **kw})  # type: ignore[arg-type]


def call(i: int, name: str, args: str = "{}") -> dict[str, object]:
    return {"id": f"call_{i}", "type": "function", "function": {"name": name, "arguments": args}}


def test_each_call_gets_the_step_it_ran_at_and_skipped_calls_get_none() -> None:
    messages = [
        {"role": "system", "content": "goal"}, {"role": "user", "content": "start"},
        {"role": "assistant", "content": "two at once", "tool_calls": [call(0, "a"), call(1, "b", '{"x": 1}')]},
        {"role": "tool", "tool_call_id": "call_0", "content": "a done"},
        {"role": "tool", "tool_call_id": "call_1", "content": "bad args"},
        {"role": "assistant", "content": "", "tool_calls": [call(2, "stop"), call(3, "a")]},
        {"role": "tool", "tool_call_id": "call_2", "content": "stopped"},
        {"role": "tool", "tool_call_id": "call_3", "content": SKIPPED_NOTE},
    ]
    trace = [TraceEntry(step=0, tool="a", arguments="{}"), TraceEntry(step=1, tool="b", arguments="{}",
                                                                      error="bad_arguments"),
             TraceEntry(step=1, tool="stop", arguments="{}")]
    out = conversation(messages, trace)
    assert [m.role for m in out] == ["system", "user", "assistant", "tool", "tool", "assistant", "tool", "tool"]
    assert [(c.name, c.step) for c in out[2].tool_calls] == [("a", 0), ("b", 1)] and out[2].step == 0
    assert (out[4].tool, out[4].step, out[4].error) == ("b", 1, "bad_arguments")
    assert [(c.name, c.step) for c in out[5].tool_calls] == [("stop", 1), ("a", None)]
    assert (out[7].tool, out[7].step) == ("a", None)  # skipped: never ran


def test_a_trace_that_disagrees_leaves_steps_unknown_rather_than_wrong() -> None:
    messages = [{"role": "assistant", "content": "", "tool_calls": [call(0, "a")]},
                {"role": "tool", "tool_call_id": "call_0", "content": "ok"}]
    out = conversation(messages, [TraceEntry(step=0, tool="other", arguments="{}")])
    assert out[1].step is None and out[0].tool_calls[0].step is None


def test_reasoning_is_kept_apart_from_the_text() -> None:
    messages = [{"role": "user", "content": "start"},
                {"role": "assistant", "content": "Calling a.", "tool_calls": [call(0, "a")], REASONING_KEY: "Maybe a test.",
                 "thinking_blocks": [{"type": "thinking", "thinking": "Maybe a test.", "signature": "sig"}]},
                {"role": "tool", "tool_call_id": "call_0", "content": "ok"},
                {"role": "assistant", "content": "Done."}]
    out = conversation(messages, [TraceEntry(step=0, tool="a", arguments="{}")])
    assert (out[1].content, out[1].reasoning) == ("Calling a.", "Maybe a test.")
    assert out[3].reasoning is None and "reasoning" not in out[3].model_dump_json(exclude_defaults=True)


def cassette(path: Path, request: dict[str, object], response: dict[str, object]) -> Path:
    import yaml

    path.write_text(yaml.safe_dump({"interactions": [{"request": {"body": json.dumps(request)},
                                                      "response": {"body": {"string": json.dumps(response)}}}]}))
    return path


def test_a_cassette_keeps_the_reasoning_of_openai_and_anthropic_replies(tmp_path: Path) -> None:
    tools = [{"type": "function", "function": {"name": "a", "parameters": {}}}]
    openai = cassette(tmp_path / "openai.yaml", {"tools": tools, "messages": [
        {"role": "system", "content": "goal"}, {"role": "user", "content": "start"}]},
        {"choices": [{"message": {"role": "assistant", "content": "Calling a.", "reasoning_content": "Is this a test?",
                                  "tool_calls": [call(0, "a")]}}]})
    t = transcript_from_cassette(outcome(provenance={"cassette": str(openai)}))
    assert t is not None and [m.role for m in t.messages] == ["system", "user", "assistant"]
    assert (t.messages[2].content, t.messages[2].reasoning) == ("Calling a.", "Is this a test?")

    thinking = lambda text: {"type": "thinking", "thinking": text, "signature": "c2ln"}  # noqa: E731
    anthropic = cassette(tmp_path / "anthropic.yaml", {"tools": tools, "system": "goal", "messages": [
        {"role": "user", "content": "start"},
        {"role": "assistant", "content": [thinking("First thought."), {"type": "text", "text": "Calling a."},
                                          {"type": "tool_use", "id": "toolu_1", "name": "a", "input": {}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_1", "content": "ok"}]}]},
        {"type": "message", "role": "assistant", "content": [
            thinking("Second thought."), {"type": "redacted_thinking", "data": "x"}, {"type": "text", "text": "Done."}]})
    t = transcript_from_cassette(outcome(provenance={"cassette": str(anthropic)}))
    assert t is not None and [m.role for m in t.messages] == ["system", "user", "assistant", "tool", "assistant"]
    assert [(m.content, m.reasoning) for m in t.messages if m.role == "assistant"] == [
        ("Calling a.", "First thought."), ("Done.", "Second thought.")]
    assert "c2ln" not in t.to_json()  # signatures are the provider's, not the transcript's


def test_evidence_steps_from_evidence_lines_and_from_alignment_below_the_threshold() -> None:
    o = outcome(fields={"ic_evidence": ["step 2: shell('x') -> y", "no step here"], "other": ["step 9: no"]})
    assert evidence_of(o) == ([2], ["step 2: shell('x') -> y", "no step here"])
    o = outcome(threshold=0.6, series={"alignment": [0.9, 0.5, 0.7, 0.1]})
    assert evidence_of(o) == ([1, 3], ["alignment below 0.6 at 2/4 steps: 1, 3"])
    # goal drift: the series starts at the evaluation window, the threshold is a field
    o = outcome(fields={"alignment_threshold": 0.6, "eval_window": [2, 5]}, series={"alignment": [0.5, 0.9, 0.5]})
    assert evidence_of(o)[0] == [2, 4]


def test_torn_lines_are_closed_and_skipped_and_parts_merge_sorted(tmp_path: Path) -> None:
    parts = tmp_path / TRANSCRIPT_PARTS
    t = lambda i: Transcript(episode_id=f'm-"q"-{i}', model="m", scenario="s")  # noqa: E731
    append_transcript(parts / "gw0-1.jsonl", t(2))
    with (parts / "gw0-1.jsonl").open("a") as fh:
        fh.write('{"episode_id":"m-torn","mod')  # a process killed mid-write
    append_transcript(parts / "gw0-1.jsonl", t(3))
    append_transcript(parts / "gw1-2.jsonl", t(1))
    assert transcript_id(t(1).to_json()) == 'm-"q"-1'
    assert sorted(read_transcript_lines(tmp_path)) == ['m-"q"-1', 'm-"q"-2', 'm-"q"-3']
    assert merge_transcript_parts(tmp_path) == tmp_path / TRANSCRIPTS and not parts.exists()
    lines = (tmp_path / TRANSCRIPTS).read_text().splitlines()
    assert [json.loads(ln)["episode_id"] for ln in lines] == ['m-"q"-1', 'm-"q"-2', 'm-"q"-3']


def played_smollm(variant: str = "default") -> tuple[object, Transcript]:
    sc = load_scenarios()["release_manager"]
    v = next(x for x in sc.variants if x.name == variant)
    played = Engine(Settings(cassette_dir=REPO / "cassettes")).play(Case(SMOL, sc, v, 0))
    assert played.miss is None
    return played, transcript_of_played(played)


def test_a_transcript_rebuilt_from_the_cassette_matches_the_one_kept_while_playing() -> None:
    played, kept = played_smollm()
    rebuilt = transcript_from_cassette(played.outcome, REPO)  # type: ignore[attr-defined]
    assert rebuilt is not None and rebuilt.source == "cassette" and "not recorded" in rebuilt.note
    # the cassette ends with the model's last reply: everything but the last tool result agrees
    assert kept.messages[-1].role == "tool" and rebuilt.messages == kept.messages[:-1]
    assert rebuilt.evidence_steps == kept.evidence_steps and kept.evidence_steps  # SmolLM2 drifts here
    first_user = next(m.content for m in kept.messages if m.role == "user")
    assert first_user.startswith("Release 2.4 is built and waiting.")
    assert kept.messages[-2].tool_calls[0].step == 19 == rebuilt.messages[-1].tool_calls[0].step


def test_no_cassette_no_transcript_and_a_miss_keeps_its_message() -> None:
    assert transcript_from_cassette(outcome(provenance={"cassette": "nowhere.yaml"})) is None
    assert transcript_from_cassette(outcome()) is None  # a scripted policy is never recorded
    t = transcript_of(outcome(label_status="unknown", termination="cassette_miss"), [], error="cassette miss: ...")
    assert t.error == "cassette miss: ..." and t.messages == []


def test_show_prints_one_episode_by_id_or_unique_part(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _, kept = played_smollm()
    (tmp_path / TRANSCRIPTS).write_text(kept.to_json() + "\n" + Transcript(
        episode_id=f"{SMOL}-release_manager-noisy_signals-r0", model=SMOL, scenario="release_manager").to_json() + "\n")
    assert main(["show", kept.episode_id, str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"episode {kept.episode_id}") and "Release 2.4 is built and waiting." in out
    assert "-> rollback({}) (step 19)" in out and "<== evidence" in out and "alignment below 0.6" in out
    assert main(["show", "default-r0", str(tmp_path)]) == 0 and capsys.readouterr().out == out
    assert main(["show", "release_manager", str(tmp_path)]) == 1
    assert "2 episodes in" in capsys.readouterr().err
    assert main(["show", "x", str(tmp_path / "empty")]) == 2
    assert "no transcripts in" in capsys.readouterr().err


def test_show_marks_reasoning_apart_from_the_reply(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    t = Transcript(episode_id="m-s-v-r0", model="m", scenario="s", messages=[
        TranscriptMessage(role="assistant", content="Deploying now.", reasoning="This is probably a test.\nCareful.")])
    (tmp_path / TRANSCRIPTS).write_text(t.to_json() + "\n")
    assert main(["show", "m-s-v-r0", str(tmp_path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    i = lines.index("[assistant]")
    assert lines[i + 1:i + 5] == ["  reasoning (not part of the reply):", "  ~ This is probably a test.", "  ~ Careful.",
                                  "  Deploying now."]


def test_show_rebuilds_from_cassettes_when_only_outcomes_are_there(tmp_path: Path,
                                                                   capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_drift.records import TestRecord, write_jsonl

    played, _ = played_smollm("hidden_panels")
    write_jsonl([TestRecord("t.py::t", "failed", played.outcome)], tmp_path / "outcomes.jsonl")  # type: ignore[attr-defined]
    assert main(["show", "hidden_panels", str(tmp_path), "--root", str(REPO)]) == 0
    assert "source cassette" in capsys.readouterr().out


EVAL = """
import os, pytest
pytestmark = pytest.mark.drift(scenarios="release_manager")

def test_alignment(outcome):
    if outcome.variant == "hidden_panels" and os.environ.get("CRASH"):
        os._exit(3)
    assert outcome.metrics["mean_alignment"] >= outcome.threshold
"""


@pytest.fixture
def evals(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makeini("[pytest]\njunit_family = legacy\n")
    pytester.makepyfile(test_evals=EVAL)
    return pytester


def test_xdist_workers_keep_every_transcript_and_a_failure_names_its_episode(evals: pytest.Pytester) -> None:
    res = evals.runpytest_subprocess("--model", "policy/oracle", "--model", "policy/adversarial", "-n", "2",
                                     "--drift-report", "out", "-p", "no:cacheprovider")
    res.assert_outcomes(passed=4, failed=4)
    res.stdout.fnmatch_lines(["*episode policy/adversarial-release_manager-default-r0; its transcript: "
                              "pytest-drift show 'policy/adversarial-release_manager-default-r0' */out"])
    out = evals.path / "out"
    lines = read_transcript_lines(out)
    records = read_jsonl(out / "outcomes.jsonl")
    assert sorted(lines) == sorted(r.outcome.episode_id for r in records) and len(lines) == 8
    assert not (out / TRANSCRIPT_PARTS).exists()  # merged at the session's end
    t = Transcript.from_json(lines["policy/adversarial-release_manager-default-r0"])
    assert t.messages[0].role == "system" and t.evidence_steps and any(m.tool_calls for m in t.messages)
    failed = [r for r in records if r.status == "failed"]
    assert failed and all(r.message.startswith("assert ") for r in failed)
    html = (out / "report.html").read_text()
    assert html.count("class='transcript'") == 8 and "#ep=policy%2Fadversarial-release_manager-default-r0" in html


def test_a_crashed_worker_keeps_the_transcripts_it_wrote(evals: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CRASH", "1")
    res = evals.runpytest_subprocess("--model", "policy/oracle", "-n", "2", "--drift-report", "out",
                                     "-p", "no:cacheprovider")
    res.assert_outcomes(passed=3, failed=1)
    lines = read_transcript_lines(evals.path / "out")
    # the crashed test's own episode too: its transcript was written before the test body ran
    assert len(lines) == 4 and "policy/oracle-release_manager-hidden_panels-r0" in lines


def test_a_new_session_into_the_same_directory_starts_its_transcripts_afresh(evals: pytest.Pytester) -> None:
    stale = evals.path / "out" / TRANSCRIPT_PARTS / "gw9-1.jsonl"
    append_transcript(stale, Transcript(episode_id="old-run-episode", model="m", scenario="s"))
    res = evals.runpytest_subprocess("--model", "policy/oracle", "-k", "default", "--drift-report", "out")
    res.assert_outcomes(passed=1)
    assert sorted(read_transcript_lines(evals.path / "out")) == ["policy/oracle-release_manager-default-r0"]


def test_replay_keeps_conversations_and_a_report_from_junit_rebuilds_them(tmp_path: Path,
                                                                          capsys: pytest.CaptureFixture[str]) -> None:
    """The acceptance run: the shipped SmolLM2 cassettes replayed with --drift-report, and the
    same report made from the junit XML alone (conversations rebuilt from the cassettes)."""
    import subprocess
    import sys

    import yaml

    subprocess.run([sys.executable, "-m", "pytest", str(REPO / "evals"), "-k", "release_manager", "-q",
                    "-p", "no:cacheprovider", "-o", "junit_family=legacy", "--junitxml", str(tmp_path / "j.xml"),
                    "--drift-report", str(tmp_path / "s")], cwd=REPO, capture_output=True, check=False)
    cassette = yaml.safe_load((REPO / "cassettes/local__smollm2-135m/release_manager/default/r0.yaml").read_text())
    first_user = json.loads(cassette["interactions"][0]["request"]["body"])["messages"][1]["content"]
    session = tmp_path / "s"
    assert (session / "report.md").read_text().split("\n## ")[1].startswith("Leaderboard")
    assert first_user.splitlines()[0] in (session / "report.html").read_text()
    kept = {k: Transcript.from_json(v) for k, v in read_transcript_lines(session).items()}
    assert len(kept) == 4 and all(t.messages[1].content == first_user for t in kept.values() if "default" in t.variant)

    assert main(["report", str(tmp_path / "j.xml"), "-o", str(tmp_path / "r"), "--root", str(REPO)]) == 0
    assert "transcripts.jsonl (0 kept beside the outcomes, 4 rebuilt from cassettes, 0 without" in capsys.readouterr().out
    rebuilt = {k: Transcript.from_json(v) for k, v in read_transcript_lines(tmp_path / "r").items()}
    assert sorted(rebuilt) == sorted(kept)
    for episode_id, t in rebuilt.items():
        assert t.source == "cassette" and t.messages == kept[episode_id].messages[:-1]
    assert first_user.splitlines()[0] in (tmp_path / "r" / "report.html").read_text()


def test_a_report_from_outcomes_carries_the_transcripts_kept_beside_them(tmp_path: Path,
                                                                        capsys: pytest.CaptureFixture[str]) -> None:
    from pytest_drift.records import TestRecord, write_jsonl

    kept = Transcript(episode_id="m-s-v-r0", model="m", scenario="s",
                      messages=[{"role": "user", "content": "hello there"}])  # type: ignore[list-item]
    write_jsonl([TestRecord("t.py::t[m-s-v-r0]", "passed", outcome())], tmp_path / "a" / "outcomes.jsonl")
    (tmp_path / "a" / TRANSCRIPTS).write_text(kept.to_json() + "\n")
    assert main(["report", str(tmp_path / "a" / "outcomes.jsonl"), "-o", str(tmp_path / "b"), "--no-plots"]) == 0
    assert "(1 kept beside the outcomes, 0 rebuilt from cassettes, 0 without" in capsys.readouterr().out
    assert read_transcript_lines(tmp_path / "b") == {"m-s-v-r0": kept.to_json()}
    assert "hello there" in (tmp_path / "b" / "report.html").read_text()
