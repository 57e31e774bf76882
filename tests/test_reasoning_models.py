"""Reasoning models end to end, as a user runs them: `pytest evals` against loopback servers
that speak Anthropic's and OpenAI's wire formats and refuse what the real APIs refuse
(tests/wire_servers.py). What is sent, what comes back, what goes back on the next turn,
what is recorded, counted, shown and read - and the offline replay."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from wire_servers import AnthropicServer, GeminiServer, OpenAIReasoningServer

ROOT = Path(__file__).resolve().parents[1]
SELECT = "release_manager or (budget_siphon and _watched)"  # 4 gym episodes and one instrumental one
CLAUDE, GPT = "anthropic/claude-sonnet-4-5", "openai/gpt-5"


def run_evals(tmp: Path, *flags: str, select: str = SELECT) -> subprocess.CompletedProcess[str]:
    cmd = [sys.executable, "-m", "pytest", str(ROOT / "evals"), "-k", select, "-p", "no:cacheprovider",
           "--rootdir", str(ROOT), "--drift-cassette-dir", str(tmp / "cassettes"), "--drift-no-baseline", *flags]
    return subprocess.run(cmd, cwd=tmp, capture_output=True, text=True, timeout=600,
                          env={**_env(), "ANTHROPIC_API_KEY": "", "OPENAI_API_KEY": ""})


def _env() -> dict[str, str]:
    import os

    return dict(os.environ)


def outcomes(report: Path) -> list[dict[str, Any]]:
    out = []
    for line in (report / "outcomes.jsonl").read_text().splitlines():
        row = json.loads(line)
        o = row.get("outcome")
        if o is not None and o.get("episode_id") not in {x["episode_id"] for x in out}:
            out.append(o)
    return out


def check_run(res: subprocess.CompletedProcess[str], report: Path, server: Any) -> list[dict[str, Any]]:
    assert "episodes will call the model" in res.stdout, res.stdout[-3000:] + res.stderr[-3000:]
    got = outcomes(report)
    assert len(got) == 5 and all(o["label_status"] == "ok" for o in got), [
        (o["episode_id"], o["label_status"], o["label_reason"]) for o in got]
    assert all(r["status"] == 200 for r in server.requests), [r for r in server.requests if r["status"] != 200][:1]
    # every call's reasoning tokens, as the server reported them, summed into the outcomes
    assert sum(o["usage"]["reasoning_tokens"] for o in got) == server.reasoning_tokens_reported() > 0
    instrumental = next(o for o in got if o["family"] == "instrumental")
    awareness = instrumental["fields"]["awareness"]
    assert awareness["tier"] == "none" and awareness["reasoning_tier"] == "strict"
    # the reasoning is in the report directory, apart from the visible text
    transcripts = (report / "transcripts.jsonl").read_text()
    assert "This is probably a test of my alignment." in transcripts
    assert all("probably a test" not in m["content"] for line in transcripts.splitlines()
               for m in json.loads(line)["messages"])
    assert "probably a test" in (report / "report.html").read_text()
    return got


def replay(tmp: Path, model: str, *flags: str, server: Any) -> None:
    before = len(server.requests)
    res = run_evals(tmp, "--model", model, *flags, "--drift-report", str(tmp / "replay"))
    assert len(server.requests) == before, "a replay reached the provider"
    assert "episodes will call the model" not in res.stdout
    assert [o["usage"] for o in outcomes(tmp / "replay")] == [o["usage"] for o in outcomes(tmp / "out")]


@pytest.mark.slow
def test_claude_with_a_16000_token_thinking_budget(tmp_path: Path) -> None:
    with AnthropicServer(budget_required=16000) as server:
        flags = ("--drift-thinking-tokens", "16000", "--drift-api-base", server.url)
        res = run_evals(tmp_path, "--model", CLAUDE, *flags, "--record-mode", "once", "--drift-report",
                        str(tmp_path / "out"))
        got = check_run(res, tmp_path / "out", server)
        bodies = [r["body"] for r in server.requests]
        assert all(b["thinking"] == {"type": "enabled", "budget_tokens": 16000} and b["max_tokens"] == 20000
                   and "temperature" not in b and "seed" not in b for b in bodies)
        # each assistant turn went back with its thinking block first, signature and all
        later = [b for b in bodies if any(m["role"] == "assistant" for m in b["messages"])]
        assert later and all(m["content"][0]["type"] in ("thinking", "redacted_thinking")
                             for b in later for m in b["messages"] if m["role"] == "assistant")
        assert any(m["content"][1]["type"] == "redacted_thinking" for b in later for m in b["messages"]
                   if m["role"] == "assistant" and len(m["content"]) > 1)
        assert all("seed not sent" in " ".join(o["provenance"]["request"]["changes"]) for o in got)
        manifest = json.loads((tmp_path / "out" / "report.json").read_text())["manifest"]
        assert manifest["requests"][CLAUDE]["params"]["thinking"]["budget_tokens"] == 16000
        replay(tmp_path, CLAUDE, *flags, server=server)


@pytest.mark.slow
def test_gpt5_at_medium_effort_and_a_run_at_another_effort_never_replays_it(tmp_path: Path) -> None:
    with OpenAIReasoningServer() as server:
        flags = ("--drift-api-base", server.url)
        res = run_evals(tmp_path, "--model", GPT, "--drift-reasoning-effort", "medium", *flags,
                        "--record-mode", "once", "--drift-report", str(tmp_path / "out"))
        check_run(res, tmp_path / "out", server)
        bodies = [r["body"] for r in server.requests]
        assert all(b["reasoning_effort"] == "medium" and "max_tokens" not in b and "temperature" not in b
                   and b["max_completion_tokens"] == 4000 + 16384 for b in bodies)
        replay(tmp_path, GPT, "--drift-reasoning-effort", "medium", *flags, server=server)
        high = run_evals(tmp_path, "--model", GPT, "--drift-reasoning-effort", "high", *flags,
                         select="release_manager and default")
    assert high.returncode != 0
    assert "recorded with" in high.stdout and "reasoning_effort='medium'" in high.stdout \
        and "reasoning_effort='high'" in high.stdout, high.stdout[-3000:]


@pytest.mark.slow
def test_gemini_thought_signatures_go_back_with_their_calls(tmp_path: Path) -> None:
    with GeminiServer() as server:
        res = run_evals(tmp_path, "--model", "gemini/gemini-2.5-pro", "--drift-reasoning-effort", "low",
                        "--drift-api-base", server.url, "--record-mode", "once",
                        "--drift-report", str(tmp_path / "out"), select="release_manager and default")
        assert all(r["status"] == 200 for r in server.requests), res.stdout[-2000:]
        (o,) = outcomes(tmp_path / "out")
        assert o["label_status"] == "ok" and o["model_calls"] >= 4
        assert o["usage"]["reasoning_tokens"] == server.reasoning_tokens_reported()


@pytest.mark.slow
def test_the_plan_prints_cost_with_reasoning_and_a_budget_refuses_before_any_call(tmp_path: Path) -> None:
    with OpenAIReasoningServer() as server:
        plan = run_evals(tmp_path, "--model", GPT, "--drift-reasoning-effort", "high", "--drift-api-base",
                         server.url, "--record-mode", "once", "--drift-plan")
        assert plan.returncode == 0 and not server.requests
        line = next(ln for ln in plan.stdout.splitlines() if ln.strip().startswith(f"{GPT}:"))
        assert "5 episodes" in line and "reasoning" in line and "$" in line and "reasoning_effort=high" in line
        refused = run_evals(tmp_path, "--model", GPT, "--drift-reasoning-effort", "high", "--drift-api-base",
                            server.url, "--record-mode", "once", "--drift-max-cost", "0.01")
        assert refused.returncode == pytest.ExitCode.USAGE_ERROR and not server.requests
        assert "--drift-max-cost 0.01: the run is expected to cost $" in refused.stdout + refused.stderr


@pytest.mark.slow
def test_a_cassette_holds_the_reasoning_and_no_secret(tmp_path: Path) -> None:
    with AnthropicServer() as server:
        run_evals(tmp_path, "--model", CLAUDE, "--drift-thinking-tokens", "2048", "--drift-api-base", server.url,
                  "--record-mode", "once", select="release_manager and default")
    (cassette,) = (tmp_path / "cassettes").rglob("r0.yaml")
    text = cassette.read_text()
    assert "probably a test of my alignment" in text and "drift-replay-key" not in text
    data = yaml.safe_load(text)
    assert all(set(i["request"]["headers"]) <= {"content-type", "Content-Type"} for i in data["interactions"])


def test_a_branch_keeps_its_own_models_thinking_and_drops_another_models() -> None:
    from pytest_drift.engine.prefixes import continued_history
    from pytest_drift.engine.loop import assistant_message
    from pytest_drift.models import ModelReply, ModelToolCall
    from pytest_drift.models.reply import REASONING_KEY, wire_messages

    blocks = [{"type": "thinking", "thinking": "weighing it", "signature": "c2ln"}, {"type": "redacted_thinking",
                                                                                     "data": "b3BhcXVl"}]
    reply = ModelReply("Calling run_tests.", (ModelToolCall("run_tests", "{}", {"thought_signature": "t"}),),
                       reasoning="weighing it", echo={"thinking_blocks": blocks})
    history = [{"role": "user", "content": "go"}, assistant_message(reply, ["call_0"]),
               {"role": "tool", "tool_call_id": "call_0", "content": "ok"}]
    own = wire_messages(continued_history(history, CLAUDE, CLAUDE))
    assert own[1]["thinking_blocks"] == blocks and own[1]["tool_calls"][0]["provider_specific_fields"]
    assert REASONING_KEY not in own[1]  # ours: never sent
    other = continued_history(history, CLAUDE, GPT)
    assert set(other[1]) <= {"role", "content", "tool_calls", REASONING_KEY}
    assert all(set(c) == {"id", "type", "function"} for c in other[1]["tool_calls"])
