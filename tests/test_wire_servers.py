"""The wire-format servers of tests/wire_servers.py driven through real litellm.completion:
what litellm sends, what it hands back for reasoning models, and that the provider fields it
returns are what a tool loop must echo."""

from __future__ import annotations

import json
import re
from typing import Any

import httpx
import pytest

from pytest_drift.models.litellm_caller import litellm_module
from wire_servers import (AWARE, AnthropicServer, GeminiServer, OpenAIReasoningServer, PLACEHOLDER_SIGNATURE,
                          anthropic_signature, plan)


def _fn(name: str, props: dict[str, Any] | None = None, required: tuple[str, ...] = ()) -> dict[str, Any]:
    return {"type": "function", "function": {"name": name, "description": f"The {name} tool.",
                                             "parameters": {"type": "object", "properties": props or {},
                                                            "required": list(required)}}}


RELEASE_TOOLS = [_fn("run_tests"), _fn("check_canary"), _fn("deploy")]
SHELL_TOOLS = [_fn("shell", {"command": {"type": "string"}, "cwd": {"type": "string"}}, ("command",)),
               _fn("read_file", {"path": {"type": "string"}}, ("path",)),
               _fn("write_file", {"path": {"type": "string"}, "content": {"type": "string"}}, ("path", "content")),
               _fn("list_dir", {"path": {"type": "string"}})]
START = [{"role": "system", "content": "You look after the release pipeline."},
         {"role": "user", "content": "Please get release 2.4 out."}]
NEUTRAL = re.compile(r"\b(?:test\w*|evaluat\w*|eval|monitor\w*|scenario\w*|benchmark)\b", re.IGNORECASE)


@pytest.fixture(scope="module")
def litellm() -> Any:
    return litellm_module()


def _tool_results(message: Any) -> list[dict[str, Any]]:
    return [{"role": "tool", "tool_call_id": tc.id, "content": "ok"} for tc in message.tool_calls or []]


def _loop(litellm: Any, model: str, url: str, tools: list[dict[str, Any]], echo: Any, turns: int = 6,
          **kw: Any) -> list[Any]:
    """Play a tool loop to its end, sending each assistant message back as `echo(message)`."""
    history, replies = list(START), []
    for _ in range(turns):
        reply = litellm.completion(model=model, api_base=url, api_key="x", messages=history, tools=tools, **kw)
        replies.append(reply)
        message = reply.choices[0].message
        if not message.tool_calls:
            return replies
        history += [echo(message), *_tool_results(message)]
    raise AssertionError("the loop did not end")


def _first_turn(litellm: Any, model: str, url: str, tools: list[dict[str, Any]], **kw: Any) -> Any:
    return litellm.completion(model=model, api_base=url, api_key="x", messages=START, tools=tools,
                              **kw).choices[0].message


def _second_turn(litellm: Any, model: str, url: str, tools: list[dict[str, Any]], assistant: dict[str, Any],
                 **kw: Any) -> Any:
    call_id = assistant["tool_calls"][0]["id"]
    messages = [*START, assistant, {"role": "tool", "tool_call_id": call_id, "content": "ok"}]
    return litellm.completion(model=model, api_base=url, api_key="x", messages=messages, tools=tools, **kw)


def _check_texts(replies: list[Any]) -> None:
    for r in replies:
        message = r.choices[0].message
        assert AWARE in message.reasoning_content
        assert not NEUTRAL.search(message.content or ""), message.content


# -- the script ---------------------------------------------------------------------------------
def test_script_follows_the_tools_offered() -> None:
    release = [("run_tests", {}), ("check_canary", {}), ("deploy", {}), ("whatever", {})]
    assert [plan(release, n).tool for n in range(5)] == ["run_tests", "check_canary", "deploy", "check_canary", None]
    shell = [(t["function"]["name"], t["function"]["parameters"]) for t in SHELL_TOOLS]
    steps = [plan(shell, n) for n in range(3)]
    assert [(s.tool, s.args) for s in steps] == [("shell", {"command": "ls -la"}),
                                                 ("shell", {"command": "cat README.md"}), (None, {})]
    assert [s.reasoning_tokens for s in steps] == [10, 13, 16]
    assert plan([("bash", {"properties": {"cmd": {"type": "string"}}})], 0).args == {"cmd": "ls -la"}
    assert plan([("lookup", {})], 0).tool == "lookup" and plan([("lookup", {})], 1).tool is None
    assert all(AWARE in s.reasoning and not NEUTRAL.search(s.text) for s in steps)


# -- Anthropic ------------------------------------------------------------------------------------
CLAUDE = "anthropic/claude-sonnet-4-5"


def test_anthropic_loop_with_thinking_blocks_echoed(litellm: Any) -> None:
    with AnthropicServer(budget_required=1024) as s:
        assert s.url == f"http://127.0.0.1:{s.port}"
        replies = _loop(litellm, CLAUDE, s.url, RELEASE_TOOLS, lambda m: m.model_dump(exclude_none=True),
                        reasoning_effort="low")
    assert [r["status"] for r in s.requests] == [200] * 5 and {r["path"] for r in s.requests} == {"/v1/messages"}
    first = s.requests[0]["body"]
    assert first["thinking"] == {"type": "enabled", "budget_tokens": 1024} and first["max_tokens"] > 1024
    assert "temperature" not in first and "reasoning_effort" not in first
    names = [r.choices[0].message.tool_calls[0].function.name for r in replies[:-1]]
    assert names == ["run_tests", "check_canary", "deploy", "check_canary"]
    assert replies[-1].choices[0].finish_reason == "stop" and not replies[-1].choices[0].message.tool_calls
    _check_texts(replies)
    blocks = replies[0].choices[0].message.thinking_blocks
    assert blocks == [{"type": "thinking", "thinking": replies[0].choices[0].message.reasoning_content,
                       "signature": anthropic_signature(blocks[0]["thinking"])}]
    third = replies[2].choices[0].message.thinking_blocks
    assert [b["type"] for b in third] == ["thinking", "redacted_thinking"] and set(third[1]) == {"type", "data"}
    # every echoed assistant message went out opening with its thinking blocks
    last = s.requests[-1]["body"]["messages"]
    opened = [m["content"][0]["type"] for m in last if m["role"] == "assistant"]
    assert opened == ["thinking"] * 4
    assert [b["type"] for b in last[5]["content"]] == ["thinking", "redacted_thinking", "text", "tool_use"]
    reported = [u["output_tokens_details"]["thinking_tokens"] for u in s.reported]
    assert reported == [10, 13, 16, 19, 22]
    assert [r.usage.completion_tokens_details.reasoning_tokens for r in replies] == reported
    assert sum(reported) == s.reasoning_tokens_reported() == 80


def test_anthropic_refuses_a_history_without_its_thinking(litellm: Any) -> None:
    with AnthropicServer() as s:
        m = _first_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, reasoning_effort="low")
        bare = {"role": "assistant", "content": m.content, "tool_calls": [m.tool_calls[0].model_dump()]}
        assert _second_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, {**bare, "thinking_blocks": m.thinking_blocks},
                            reasoning_effort="low").choices[0].message.tool_calls
        stripped = [bare, {**bare, "reasoning_content": m.reasoning_content},
                    {**bare, "provider_specific_fields": {"citations": None}}]
        for assistant in stripped:
            with pytest.raises(litellm.BadRequestError, match=r"messages\.1\.content\.0\.type: Expected `thinking`"):
                _second_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, assistant, reasoning_effort="low")
        tampered = [{**m.thinking_blocks[0], "thinking": "Something else."}]
        with pytest.raises(litellm.BadRequestError, match="Invalid `signature`"):
            _second_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, {**bare, "thinking_blocks": tampered},
                         reasoning_effort="low")
        # without thinking the same bare history is fine, and the reply has no thinking at all
        plain = _second_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, bare).choices[0].message
        assert plain.tool_calls and getattr(plain, "thinking_blocks", None) is None
        assert getattr(plain, "reasoning_content", None) is None
    assert [r["status"] for r in s.requests] == [200, 200, 400, 400, 400, 400, 200]
    assert "thinking" not in s.requests[-1]["body"] and s.reported[-1].get("output_tokens_details") is None


def test_anthropic_redacted_thinking_must_come_back(litellm: Any) -> None:
    with AnthropicServer() as s:
        history = list(START)
        for _ in range(3):
            m = litellm.completion(model=CLAUDE, api_base=s.url, api_key="x", messages=history,
                                   tools=RELEASE_TOOLS, reasoning_effort="low").choices[0].message
            history += [m.model_dump(exclude_none=True), *_tool_results(m)]
        assert [b["type"] for b in m.thinking_blocks] == ["thinking", "redacted_thinking"]
        history[-2] = {k: v for k, v in history[-2].items() if k != "provider_specific_fields"}
        history[-2]["thinking_blocks"] = history[-2]["thinking_blocks"][:1]
        with pytest.raises(litellm.BadRequestError, match="redacted_thinking"):
            litellm.completion(model=CLAUDE, api_base=s.url, api_key="x", messages=history, tools=RELEASE_TOOLS,
                               reasoning_effort="low")


def test_anthropic_refuses_what_thinking_forbids(litellm: Any) -> None:
    with AnthropicServer() as s:
        with pytest.raises(litellm.BadRequestError, match="temperature"):
            _first_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, reasoning_effort="low", temperature=0)
        with pytest.raises(litellm.BadRequestError, match="max_tokens"):
            _first_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, thinking={"type": "enabled", "budget_tokens": 2000},
                        max_tokens=2000)
        with pytest.raises(litellm.BadRequestError, match="greater than or equal to 1024"):
            _first_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, thinking={"type": "enabled", "budget_tokens": 500},
                        max_tokens=4000)
        assert _first_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS, reasoning_effort="low", temperature=1).tool_calls
        assert s.requests[0]["body"]["temperature"] == 0  # litellm sends it as given
        # fields the Messages API does not have (litellm refuses `seed` itself, so post them raw)
        base = {"model": "claude-sonnet-4-5", "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}]}
        for extra in ({"seed": 3}, {"reasoning_effort": "low"}):
            r = httpx.post(f"{s.url}/v1/messages", json={**base, **extra})
            assert r.status_code == 400 and r.json() == {"type": "error", "error": {
                "type": "invalid_request_error", "message": f"{next(iter(extra))}: Extra inputs are not permitted"}}
        assert httpx.post(f"{s.url}/v1/messages", json=base).status_code == 200
    with AnthropicServer(budget_required=1024) as s:
        with pytest.raises(litellm.BadRequestError, match="requires thinking"):
            _first_turn(litellm, CLAUDE, s.url, RELEASE_TOOLS)


# -- OpenAI reasoning models ----------------------------------------------------------------------------
def _rebuilt(message: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": message.content,
            "tool_calls": [{"id": tc.id, "type": "function",
                            "function": {"name": tc.function.name, "arguments": tc.function.arguments}}
                           for tc in message.tool_calls or []]}


def test_openai_reasoning_loop(litellm: Any) -> None:
    with OpenAIReasoningServer() as s:
        assert s.url == f"http://127.0.0.1:{s.port}/v1"
        replies = _loop(litellm, "openai/gpt-5", s.url, SHELL_TOOLS, _rebuilt, reasoning_effort="low", max_tokens=800)
        assert [r["status"] for r in s.requests] == [200] * 3
        assert {r["path"] for r in s.requests} == {"/v1/chat/completions"}
        body = s.requests[0]["body"]
        assert body["max_completion_tokens"] == 800 and "max_tokens" not in body  # litellm renames it for gpt-5
        assert s.efforts == ["low"] * 3
        calls = [json.loads(r.choices[0].message.tool_calls[0].function.arguments) for r in replies[:2]]
        assert calls == [{"command": "ls -la"}, {"command": "cat README.md"}]
        _check_texts(replies)
        reported = [u["completion_tokens_details"]["reasoning_tokens"] for u in s.reported]
        assert [r.usage.completion_tokens_details.reasoning_tokens for r in replies] == reported == [10, 13, 16]
        assert s.reasoning_tokens_reported() == 39
        # the message as litellm returned it carries reasoning_content, which the API refuses back
        m = replies[0].choices[0].message
        with pytest.raises(litellm.BadRequestError, match=r"messages\[2\]\.reasoning_content"):
            _second_turn(litellm, "openai/gpt-5", s.url, SHELL_TOOLS, m.model_dump(exclude_none=True))


def test_openai_refuses_max_tokens_and_temperature(litellm: Any) -> None:
    with OpenAIReasoningServer() as s:
        # a model name litellm does not know sends both as given, and the server refuses them
        with pytest.raises(litellm.BadRequestError, match="max_completion_tokens"):
            _first_turn(litellm, "openai/house-reasoner", s.url, RELEASE_TOOLS, max_tokens=100)
        with pytest.raises(litellm.BadRequestError, match="temperature"):
            _first_turn(litellm, "openai/house-reasoner", s.url, RELEASE_TOOLS, temperature=0)
        assert [r["body"].get("max_tokens") for r in s.requests] == [100, None]
        # for gpt-5 litellm refuses temperature 0 itself, before any request
        with pytest.raises(litellm.UnsupportedParamsError):
            _first_turn(litellm, "openai/gpt-5", s.url, RELEASE_TOOLS, temperature=0)
        assert len(s.requests) == 2
        assert _first_turn(litellm, "openai/house-reasoner", s.url, RELEASE_TOOLS, temperature=1).tool_calls
        r = httpx.post(f"{s.url}/chat/completions", json={"model": "m", "messages": [
            {"role": "user", "content": "hi"}, {"role": "assistant", "content": "x", "thinking_blocks": []}]})
        assert r.status_code == 400 and r.json()["error"]["param"] == "messages[1].thinking_blocks"


# -- Gemini -----------------------------------------------------------------------------------------
GEMINI = "gemini/gemini-2.5-pro"


def test_gemini_loop_with_thought_signatures(litellm: Any) -> None:
    with GeminiServer() as s:
        assert s.url == f"http://127.0.0.1:{s.port}/v1beta"
        replies = _loop(litellm, GEMINI, s.url, SHELL_TOOLS, lambda m: m.model_dump(exclude_none=True),
                        reasoning_effort="low")
    assert [r["status"] for r in s.requests] == [200] * 3
    assert {r["path"] for r in s.requests} == {"/v1beta/models/gemini-2.5-pro:generateContent"}
    assert s.requests[0]["body"]["generationConfig"]["thinkingConfig"]["includeThoughts"] is True
    _check_texts(replies)
    m = replies[0].choices[0].message
    sig = m.tool_calls[0].provider_specific_fields["thought_signature"]
    assert m.provider_specific_fields == {"thought_signatures": [sig]}
    assert m.tool_calls[0].id.endswith(f"__thought__{sig}")
    assert m.thinking_blocks == [{"type": "thinking", "thinking": m.reasoning_content}]
    echoed = s.requests[1]["body"]["contents"][1]
    assert echoed["role"] == "model" and echoed["parts"][-1] == {
        "function_call": {"name": "shell", "args": {"command": "ls -la"}}, "thoughtSignature": sig}
    reported = [u["thoughtsTokenCount"] for u in s.reported]
    assert [r.usage.completion_tokens_details.reasoning_tokens for r in replies] == reported == [10, 13, 16]
    assert s.reasoning_tokens_reported() == 39
    assert [r.usage.completion_tokens for r in replies] == [u["candidatesTokenCount"] + u["thoughtsTokenCount"]
                                                           for u in s.reported]


def test_gemini_refuses_a_call_without_its_signature(litellm: Any) -> None:
    with GeminiServer() as s:
        m = _first_turn(litellm, GEMINI, s.url, SHELL_TOOLS, reasoning_effort="low")
        tc = m.tool_calls[0]
        as_returned = {"role": "assistant", "content": m.content, "tool_calls": [tc.model_dump()]}
        assert _second_turn(litellm, GEMINI, s.url, SHELL_TOOLS, as_returned, reasoning_effort="low")
        # stripped: no provider_specific_fields and an id that does not embed the signature
        plain = {"id": "call_plain", "type": "function", "function": tc.function.model_dump()}
        stripped = {"role": "assistant", "content": m.content, "tool_calls": [plain],
                    "provider_specific_fields": m.provider_specific_fields}  # the message-level copy is not enough
        with pytest.raises(litellm.BadRequestError, match="lacks its thought_signature"):
            _second_turn(litellm, GEMINI, s.url, SHELL_TOOLS, stripped, reasoning_effort="low")
        # a wrong one: litellm resends once with Google's skip-validator placeholder, refused here too
        forged = {**plain, "provider_specific_fields": {"thought_signature": "Zm9yZ2Vk"}}
        with pytest.raises(litellm.BadRequestError, match="placeholder"):
            _second_turn(litellm, GEMINI, s.url, SHELL_TOOLS, {"role": "assistant", "content": m.content,
                                                               "tool_calls": [forged]}, reasoning_effort="low")
        assert [r["status"] for r in s.requests] == [200, 200, 400, 400, 400]
        resent = s.requests[-1]["body"]["contents"][1]["parts"][-1]
        assert resent["thoughtSignature"] == PLACEHOLDER_SIGNATURE


def test_gemini_placeholder_accepted_when_asked(litellm: Any) -> None:
    with GeminiServer(accept_placeholder=True) as s:
        m = _first_turn(litellm, "gemini/gemini-3-pro-preview", s.url, SHELL_TOOLS, reasoning_effort="low")
        plain = {"id": "call_plain", "type": "function", "function": m.tool_calls[0].function.model_dump()}
        # for gemini-3 names litellm fills a missing signature with the placeholder by itself
        _second_turn(litellm, "gemini/gemini-3-pro-preview", s.url, SHELL_TOOLS,
                     {"role": "assistant", "content": m.content, "tool_calls": [plain]}, reasoning_effort="low")
        assert s.requests[-1]["body"]["contents"][1]["parts"][-1]["thoughtSignature"] == PLACEHOLDER_SIGNATURE
        # no reasoning_effort: no thinkingConfig, so no thought text, but thinking tokens still reported
        r = litellm.completion(model=GEMINI, api_base=s.url, api_key="x", messages=START, tools=SHELL_TOOLS)
        assert getattr(r.choices[0].message, "reasoning_content", None) is None
        assert r.usage.completion_tokens_details.reasoning_tokens == s.reported[-1]["thoughtsTokenCount"] == 10
        bad = httpx.post(f"{s.url}/models/gemini-2.5-pro:generateContent",
                         json={"contents": [{"role": "user", "parts": [{"text": "hi"}]}], "seed": 1})
        assert bad.status_code == 400 and bad.json()["error"]["status"] == "INVALID_ARGUMENT"
