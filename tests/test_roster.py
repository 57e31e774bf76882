"""The papers' model roster: OpenRouter (`reasoning_details` echoed, `:exacto` ids), a
DeepSeek/Kimi-style thinking mode (`reasoning_content` echoed), OpenAI reasoning summaries
through the Responses API, per-model settings (api_base, price, summary), unpriced models, the
`ready` command, and the provider records behind all of it (models/providers.py). Against
loopback servers of tests/wire_servers.py that refuse what the real APIs refuse."""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

sys.path.insert(0, str(Path(__file__).parent))

from test_reasoning_models import check_run, outcomes, run_evals
from wire_servers import (AWARE, OpenRouterServer, ResponsesServer, ThinkingModeServer,
                          openrouter_encrypted, plan)

from pytest_drift.models import providers as P
from pytest_drift.models.litellm_caller import litellm_module, to_reply
from pytest_drift.models.paths import model_from_slug, model_slug
from pytest_drift.models.prices import Price, call_cost, table_price
from pytest_drift.models.request import Decoding, RequestError, plan_request
from pytest_drift.models.wire import (canonical_messages, echo_of, encrypted_reasoning, reasoning_of,
                                      reply_messages, reply_reasoning, request_messages)
from pytest_drift.params import ParamError, model_configs

ROOT = Path(__file__).resolve().parents[1]
GEMINI3 = "openrouter/google/gemini-3-flash-preview:exacto"
GPT, DEEPSEEK = "openai/gpt-5", "deepseek/deepseek-reasoner"
START = [{"role": "system", "content": "You look after the release pipeline."},
         {"role": "user", "content": "Please get release 2.4 out."}]
TOOLS = [{"type": "function", "function": {"name": n, "description": n, "parameters": {"type": "object",
                                                                                       "properties": {}}}}
         for n in ("run_tests", "check_canary", "deploy")]


# -- the records ------------------------------------------------------------------------------------
def test_request_plans_from_the_records_and_tests_no_provider_string() -> None:
    source = (ROOT / "pytest_drift" / "models" / "request.py").read_text()
    assert not re.search(r"provider\s*(==|!=|in)\s*[\"'(]", source)
    assert not re.search(r"[\"'](openai|anthropic|azure|gemini|openrouter)[\"']", source)


@pytest.mark.parametrize("model, family", [
    ("openai/gpt-5", "openai chat"), ("azure/gpt-5", "openai chat"), ("openai/responses/gpt-5", "openai responses"),
    ("anthropic/claude-sonnet-4-5", "anthropic"), ("gemini/gemini-2.5-pro", "gemini"), (GEMINI3, "openrouter"),
    (DEEPSEEK, "openai-compatible"), ("hosted_vllm/kimi-k2-thinking", "openai-compatible")])
def test_every_model_has_a_family(model: str, family: str) -> None:
    assert P.provider_of(model).family == family


def test_key_env_and_names_come_from_the_records() -> None:
    assert [P.key_env(m) for m in (GPT, "openai/responses/gpt-5", GEMINI3, DEEPSEEK, "anthropic/claude-x")] == [
        "OPENAI_API_KEY", "OPENAI_API_KEY", "OPENROUTER_API_KEY", "DEEPSEEK_API_KEY", "ANTHROPIC_API_KEY"]
    assert P.base_name(GEMINI3) == "google/gemini-3-flash-preview" and P.base_name("openai/responses/gpt-5") == "gpt-5"
    assert P.responses_route(GPT) == "openai/responses/gpt-5" == P.responses_route("openai/responses/gpt-5")


def _message(**fields: Any) -> SimpleNamespace:
    return SimpleNamespace(**{"content": "Calling deploy.", "tool_calls": None, **fields})


DETAILS = [{"type": "reasoning.text", "text": "weighing it", "signature": "c2ln", "index": 0},
           {"type": "reasoning.encrypted", "data": "ZW5j", "index": 1}]
ITEMS = [{"type": "reasoning", "id": "rs_1", "summary": [{"type": "summary_text", "text": "a summary"}],
          "encrypted_content": "ZW5j"}]


def test_the_echo_rule_is_data_per_family() -> None:
    openrouter = _message(reasoning_content="weighing it", provider_specific_fields={"reasoning_details": DETAILS})
    assert echo_of(P.OPENROUTER, openrouter) == {"reasoning_details": DETAILS}
    assert echo_of(P.OPENAI_CHAT, openrouter) == {}  # OpenAI chat refuses reasoning sent back: never sent
    thinking = _message(reasoning_content="weighing it")
    assert echo_of(P.OPENAI_COMPATIBLE, thinking) == {"reasoning_content": "weighing it"}
    assert echo_of(P.OPENAI_CHAT, thinking) == {}
    responses = _message(reasoning_content="a summary", reasoning_items=ITEMS)
    assert echo_of(P.OPENAI_RESPONSES, responses) == {"reasoning_items": ITEMS}
    blocks = [{"type": "thinking", "thinking": "t", "signature": "s"}]
    assert echo_of(P.ANTHROPIC, _message(thinking_blocks=blocks)) == {"thinking_blocks": blocks}
    gemini = _message(provider_specific_fields={"thought_signatures": ["sig"]})
    assert echo_of(P.GEMINI, gemini) == {"provider_specific_fields": {"thought_signatures": ["sig"]}}
    assert echo_of(P.OPENROUTER, _message()) == {}


def test_reasoning_text_and_encrypted_counts_in_every_shape() -> None:
    assert reply_reasoning(_message(provider_specific_fields={"reasoning_details": DETAILS})) == "weighing it"
    assert reply_reasoning(_message(reasoning_items=ITEMS)) == "a summary"
    assert encrypted_reasoning(_message(provider_specific_fields={"reasoning_details": DETAILS}, reasoning_items=ITEMS,
                                        thinking_blocks=[{"type": "redacted_thinking", "data": "x"}])) == 3
    # a message as a recorded request holds it: OpenRouter's, Responses items
    assert reasoning_of({"role": "assistant", "reasoning_details": DETAILS}) == "weighing it"
    assert reasoning_of({"role": "assistant", "reasoning": "plain"}) == "plain"
    assert reasoning_of({"role": "assistant", "reasoning_items": ITEMS}) == "a summary"
    assert reasoning_of({"role": "assistant", "reasoning_details": [DETAILS[1]]}) is None  # encrypted: never read


def test_a_responses_exchange_reads_back_as_a_conversation() -> None:
    request = {"model": "gpt-5", "tools": [{"type": "function", "name": "deploy"}], "input": [
        {"type": "message", "role": "system", "content": [{"type": "input_text", "text": "sys"}]},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "go"}]},
        ITEMS[0], {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Deploying."}]},
        {"type": "function_call", "call_id": "call_0", "name": "deploy", "arguments": "{}"},
        {"type": "function_call_output", "call_id": "call_0", "output": [{"type": "input_text", "text": "ok"}]}]}
    response = {"object": "response", "output": [
        {"type": "reasoning", "id": "rs_2", "summary": [{"type": "summary_text", "text": "second"}]},
        {"type": "message", "role": "assistant", "content": [{"type": "output_text", "text": "Done."}]}]}
    got = canonical_messages(request_messages(request) + reply_messages(response))
    assert [m["role"] for m in got] == ["system", "user", "assistant", "tool", "assistant"]
    assert got[2]["tool_calls"][0]["function"]["name"] == "deploy" and got[2]["_drift_reasoning"] == "a summary"
    assert got[4] == {"role": "assistant", "content": "Done.", "_drift_reasoning": "second"}


def test_an_openrouter_exchange_reads_back_with_its_reasoning() -> None:
    request = {"model": "google/gemini-3-flash-preview:exacto", "tools": TOOLS, "messages": [
        *START, {"role": "assistant", "content": "Calling run_tests.", "reasoning_details": DETAILS,
                 "tool_calls": [{"id": "tool_1", "type": "function",
                                 "function": {"name": "run_tests", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "tool_1", "content": "ok"}]}
    response = {"choices": [{"message": {"role": "assistant", "content": "Done.", "reasoning": "all green",
                                         "reasoning_details": [DETAILS[1]]}}]}
    got = canonical_messages(request_messages(request) + reply_messages(response))
    assert [m.get("_drift_reasoning") for m in got if m["role"] == "assistant"] == ["weighing it", "all green"]
    assert all("reasoning_details" not in m for m in got)  # provider fields never carry over


def test_cassette_folders_are_valid_on_every_os_and_reversible() -> None:
    slug = model_slug(GEMINI3)
    assert slug == "openrouter__google__gemini-3-flash-preview%3Aexacto"
    assert not set(slug) & set('<>:"\\|?*') and model_from_slug(slug) == GEMINI3
    for model in ("local/smollm2-135m", "openai/gpt-4o-mini", 'x/a<b>c|d?e*f"g%h'):
        assert model_from_slug(model_slug(model)) == model
    assert model_slug("local/smollm2-135m") == "local__smollm2-135m"  # shipped cassettes keep their folders


# -- request plans ------------------------------------------------------------------------------------
def test_openrouter_takes_effort_as_given_and_a_budget_as_its_unified_reasoning_parameter() -> None:
    p = plan_request(GEMINI3, Decoding(reasoning_effort="medium"))
    assert p.params["reasoning_effort"] == "medium" and "temperature" not in p.params and p.send_seed
    p = plan_request(GEMINI3, Decoding(thinking_tokens=16000))
    assert p.params["reasoning"] == {"max_tokens": 16000} and "thinking" not in p.params
    assert p.params["max_tokens"] == 4000 + 16000


def test_a_summary_routes_an_openai_reasoning_model_through_the_responses_api() -> None:
    p = plan_request(GPT, Decoding(reasoning_effort="medium", reasoning_summary="detailed"))
    assert p.called == "openai/responses/gpt-5" and p.model == GPT
    assert p.params["reasoning_effort"] == {"effort": "medium", "summary": "detailed"} and not p.send_seed
    assert p.provenance()["api"] == "responses" and p.provenance()["reasoning_summary"] == "detailed"
    assert "api" not in plan_request(GPT, Decoding(reasoning_effort="medium")).provenance()


@pytest.mark.parametrize("model, decoding, message", [
    ("openai/gpt-4o-mini", Decoding(reasoning_summary="detailed"), "without reasoning"),
    ("anthropic/claude-sonnet-4-5", Decoding(reasoning_summary="auto"), "only for OpenAI reasoning models"),
    (GEMINI3, Decoding(reasoning_summary="concise"), "only for OpenAI reasoning models"),
    (GPT, Decoding(reasoning_summary="verbose"), "must be one of auto, concise, detailed"),
])
def test_a_summary_that_cannot_work_is_a_usage_error(model: str, decoding: Decoding, message: str) -> None:
    with pytest.raises(RequestError, match=message):
        plan_request(model, decoding)


# -- per-model settings -------------------------------------------------------------------------------
def test_per_model_api_base_summary_and_price_from_a_config(tmp_path: Path) -> None:
    f = tmp_path / "roster.yaml"
    f.write_text(yaml.safe_dump({"models": {
        GEMINI3: {"reasoning_effort": "medium", "api_base": "http://127.0.0.1:9000/api/v1",
                  "input_per_mtok": 0.5, "output_per_mtok": 3},
        GPT: {"reasoning_effort": "medium", "reasoning_summary": "detailed", "api_base": "http://127.0.0.1:9001/v1"}}}))
    got = dict(model_configs([str(f)]))
    assert got[GEMINI3].api_base == "http://127.0.0.1:9000/api/v1" and got[GEMINI3].price == Price(0.5, 3.0)
    assert got[GPT].decoding == Decoding(reasoning_effort="medium", reasoning_summary="detailed")
    assert got[GPT].price is None


@pytest.mark.parametrize("entry, message", [
    ({"effort": "medium"}, r"unknown key\(s\) \['effort'\]"),
    ({"input_per_mtok": -1, "output_per_mtok": 2}, "must be >= 0"),
    ({"input_per_mtok": 1}, "give both input_per_mtok and output_per_mtok"),
    ({"api_base": "localhost:8000"}, "expected an http\\(s\\) URL"),
    ({"api_base": "ftp://x/v1"}, "expected an http\\(s\\) URL"),
    ({"reasoning_summary": 3}, "expected str"),
])
def test_a_bad_models_entry_is_an_error(tmp_path: Path, entry: dict[str, Any], message: str) -> None:
    f = tmp_path / "bad.yaml"
    f.write_text(yaml.safe_dump({"models": {GEMINI3: entry}}))
    with pytest.raises(ParamError, match=message):
        model_configs([str(f)])


def test_prices_unpriced_is_none_never_zero() -> None:
    assert table_price(GEMINI3) is None and table_price("openrouter/google/gemini-3-flash-preview") is None
    assert table_price(GPT) == table_price("openai/responses/gpt-5") and table_price(GPT).input_per_mtok > 0
    usage = SimpleNamespace(cost=None)
    response = SimpleNamespace(usage=usage)
    assert call_cost(GEMINI3, None, 1000, 1000, 0.0, response) is None  # litellm's 0.0 is not a price
    assert call_cost(GEMINI3, Price(1.0, 2.0), 1_000_000, 500_000, 0.0, response) == pytest.approx(2.0)
    assert call_cost(GEMINI3, None, 10, 10, 0.0, SimpleNamespace(usage=SimpleNamespace(cost=0.25))) == 0.25
    assert call_cost(GPT, None, 10, 10, 0.125, response) == 0.125


# -- the wire formats through litellm ---------------------------------------------------------------
@pytest.fixture(scope="module")
def litellm() -> Any:
    return litellm_module()


def _turn(litellm: Any, model: str, url: str, history: list[dict[str, Any]], **kw: Any) -> Any:
    return litellm.completion(model=model, api_base=url, api_key="x", messages=history, tools=TOOLS, **kw)


def _bare(message: Any) -> dict[str, Any]:
    return {"role": "assistant", "content": message.content,
            "tool_calls": [{"id": tc.id, "type": "function", "function": {"name": tc.function.name,
                                                                         "arguments": tc.function.arguments}}
                           for tc in message.tool_calls]}


def test_openrouter_refuses_a_turn_that_lost_its_reasoning_details(litellm: Any) -> None:
    with OpenRouterServer() as s:
        first = _turn(litellm, GEMINI3, s.url, START, reasoning_effort="medium")
        m = first.choices[0].message
        assert s.requests[0]["body"]["model"] == "google/gemini-3-flash-preview:exacto"
        assert s.requests[0]["body"]["reasoning_effort"] == "medium"
        assert AWARE in m.reasoning_content and to_reply(first, P.OPENROUTER).reasoning == m.reasoning_content
        echo = to_reply(first, P.OPENROUTER).echo
        assert [d["type"] for d in echo["reasoning_details"]] == ["reasoning.text", "reasoning.encrypted"]
        result = {"role": "tool", "tool_call_id": m.tool_calls[0].id, "content": "ok"}
        assert _turn(litellm, GEMINI3, s.url, [*START, {**_bare(m), **echo}, result], reasoning_effort="medium")
        with pytest.raises(litellm.BadRequestError, match="thought_signature"):
            _turn(litellm, GEMINI3, s.url, [*START, _bare(m), result], reasoning_effort="medium")
        text_only = {**_bare(m), "reasoning_details": echo["reasoning_details"][:1]}
        with pytest.raises(litellm.BadRequestError, match=r"reasoning\.encrypted"):
            _turn(litellm, GEMINI3, s.url, [*START, text_only, result], reasoning_effort="medium")
        forged = [{**echo["reasoning_details"][0], "text": "something else"}, echo["reasoning_details"][1]]
        with pytest.raises(litellm.BadRequestError, match="Invalid signature"):
            _turn(litellm, GEMINI3, s.url, [*START, {**_bare(m), "reasoning_details": forged}, result],
                  reasoning_effort="medium")
        assert echo["reasoning_details"][1]["data"] == openrouter_encrypted(0)
        # a thinking budget goes as OpenRouter's unified reasoning parameter, which litellm passes on
        budget = plan_request(GEMINI3, Decoding(thinking_tokens=2048)).params["reasoning"]
        assert to_reply(_turn(litellm, GEMINI3, s.url, START, reasoning=budget), P.OPENROUTER).reasoning
        assert s.requests[-1]["body"]["reasoning"] == {"max_tokens": 2048}
    assert [r["status"] for r in s.requests] == [200, 200, 400, 400, 400, 200]
    assert first.usage.completion_tokens_details.reasoning_tokens == s.reported[0]["completion_tokens_details"][
        "reasoning_tokens"] == 10


def test_a_thinking_mode_refuses_a_tool_loop_without_its_reasoning_content(litellm: Any) -> None:
    with ThinkingModeServer() as s:
        first = _turn(litellm, DEEPSEEK, s.url, START, reasoning_effort="medium")
        m = first.choices[0].message
        reply = to_reply(first, P.provider_of(DEEPSEEK))
        assert reply.echo == {"reasoning_content": m.reasoning_content} and AWARE in reply.reasoning
        result = {"role": "tool", "tool_call_id": m.tool_calls[0].id, "content": "ok"}
        assert _turn(litellm, DEEPSEEK, s.url, [*START, {**_bare(m), **reply.echo}, result])
        with pytest.raises(litellm.BadRequestError, match="reasoning_content in the thinking mode must be passed back"):
            _turn(litellm, DEEPSEEK, s.url, [*START, _bare(m), result])
        # the same message read as OpenAI chat echoes nothing (OpenAI refuses reasoning_content back)
        assert to_reply(first, P.OPENAI_CHAT).echo == {}
    assert [r["status"] for r in s.requests] == [200, 200, 400]


def test_the_responses_api_refuses_a_function_call_without_its_reasoning_item(litellm: Any) -> None:
    kw = {"reasoning_effort": {"effort": "medium", "summary": "detailed"}}
    with ResponsesServer() as s:
        first = _turn(litellm, "openai/responses/gpt-5", s.url, START, **kw)
        assert s.requests[0]["path"] == "/v1/responses"
        assert s.requests[0]["body"]["reasoning"] == {"effort": "medium", "summary": "detailed"}
        reply = to_reply(first, P.OPENAI_RESPONSES)
        assert reply.reasoning == plan([(t["function"]["name"], {}) for t in TOOLS], 0).reasoning
        assert list(reply.echo) == ["reasoning_items"] and reply.echo["reasoning_items"][0]["encrypted_content"]
        m = first.choices[0].message
        result = {"role": "tool", "tool_call_id": "call_0", "content": "ok"}
        ours = {**_bare(m), "tool_calls": [{**_bare(m)["tool_calls"][0], "id": "call_0"}]}
        assert _turn(litellm, "openai/responses/gpt-5", s.url, [*START, {**ours, **reply.echo}, result], **kw)
        sent = s.requests[1]["body"]["input"]
        assert [i.get("type") for i in sent[2:]] == ["reasoning", "message", "function_call", "function_call_output"]
        with pytest.raises(litellm.BadRequestError, match="without its required 'reasoning' item"):
            _turn(litellm, "openai/responses/gpt-5", s.url, [*START, ours, result], **kw)
        # no summary asked: the reasoning item comes back with an empty summary, still encrypted
        bare = _turn(litellm, "openai/responses/gpt-5", s.url, START, reasoning_effort={"effort": "low"})
        assert not to_reply(bare, P.OPENAI_RESPONSES).reasoning
        assert encrypted_reasoning(bare.choices[0].message) == 1
    assert [r["status"] for r in s.requests] == [200, 200, 400, 200]
    assert s.summaries == ["detailed", "detailed", "detailed", None]


# -- whole runs, live then replayed ---------------------------------------------------------------------
def _bodies(server: Any) -> list[dict[str, Any]]:
    return [r["body"] for r in server.requests]


def _replay_equal(tmp: Path, model: str, *flags: str, server: Any) -> None:
    before = len(server.requests)
    res = run_evals(tmp, "--model", model, *flags, "--drift-report", str(tmp / "replay"))
    assert len(server.requests) == before, "a replay reached the provider"
    assert "episodes will call the model" not in res.stdout, res.stdout[-2000:]
    key = lambda o: (o["episode_id"], o["label_status"], o["usage"], o["fields"].get("awareness"))  # noqa: E731
    assert sorted(map(key, outcomes(tmp / "replay")), key=str) == sorted(map(key, outcomes(tmp / "out")), key=str)


@pytest.mark.slow
def test_gemini3_through_openrouter_as_the_papers_ran_it(tmp_path: Path) -> None:
    with OpenRouterServer(require_reasoning=True) as server:
        flags = ("--drift-reasoning-effort", "medium", "--drift-api-base", server.url)
        planned = run_evals(tmp_path, "--model", GEMINI3, *flags, "--record-mode", "once", "--drift-plan")
        line = next(ln for ln in planned.stdout.splitlines() if ln.strip().startswith(f"{GEMINI3}:"))
        assert "unpriced" in line and "$0.00" not in line and not server.requests
        res = run_evals(tmp_path, "--model", GEMINI3, *flags, "--record-mode", "once",
                        "--drift-report", str(tmp_path / "out"))
        got = check_run(res, tmp_path / "out", server)
        assert all("reasoning_effort" in b for b in _bodies(server))
        assert set(server.models) == {"google/gemini-3-flash-preview:exacto"}
        # each assistant turn went back with exactly the reasoning_details of its turn
        later = [m for b in _bodies(server) for m in b["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
        assert later and all([d["type"] for d in m["reasoning_details"]] == ["reasoning.text", "reasoning.encrypted"]
                             for m in later)
        assert all(o["usage"]["cost_usd"] is None and o["model"] == GEMINI3 and ":exacto" in o["episode_id"]
                   for o in got)
        # one encrypted detail a reply: counted, and never in the reasoning text that is scanned
        assert sum(o["usage"]["encrypted_reasoning"] for o in got) == len(server.requests)
        assert openrouter_encrypted(0) not in (tmp_path / "out" / "transcripts.jsonl").read_text()
        row = next(ln for ln in res.stdout.splitlines() if ln.startswith(GEMINI3) and "release_manager" in ln)
        assert row.rstrip().endswith("unpriced"), row
        assert "unpriced" in (tmp_path / "out" / "report.md").read_text()
        folder = tmp_path / "cassettes" / "openrouter__google__gemini-3-flash-preview%3Aexacto"
        assert len(list(folder.rglob("r0.yaml"))) == 5
        _replay_equal(tmp_path, GEMINI3, *flags, server=server)


@pytest.mark.slow
def test_a_thinking_mode_gets_its_reasoning_content_back(tmp_path: Path) -> None:
    with ThinkingModeServer() as server:
        flags = ("--drift-reasoning-effort", "medium", "--drift-api-base", server.url)
        res = run_evals(tmp_path, "--model", DEEPSEEK, *flags, "--record-mode", "once",
                        "--drift-report", str(tmp_path / "out"))
        check_run(res, tmp_path / "out", server)
        later = [m for b in _bodies(server) for m in b["messages"] if m["role"] == "assistant" and m.get("tool_calls")]
        assert later and all(AWARE in m["reasoning_content"] for m in later)
        _replay_equal(tmp_path, DEEPSEEK, *flags, server=server)


@pytest.mark.slow
def test_gpt5_summaries_through_the_responses_api(tmp_path: Path) -> None:
    with ResponsesServer() as server:
        flags = ("--drift-reasoning-effort", "medium", "--drift-reasoning-summary", "detailed",
                 "--drift-api-base", server.url)
        res = run_evals(tmp_path, "--model", GPT, *flags, "--record-mode", "once",
                        "--drift-report", str(tmp_path / "out"))
        got = check_run(res, tmp_path / "out", server)  # reasoning_tier strict from the summaries, tier none
        assert server.summaries and set(server.summaries) == {"detailed"}
        assert all(b["reasoning"] == {"effort": "medium", "summary": "detailed"} and "seed" not in b
                   for b in _bodies(server))
        assert sum(o["usage"]["encrypted_reasoning"] for o in got) == len(server.requests)
        assert all(o["model"] == GPT and o["provenance"]["request"]["api"] == "responses"
                   and o["provenance"]["request"]["reasoning_summary"] == "detailed" for o in got)
        manifest = json.loads((tmp_path / "out" / "report.json").read_text())["manifest"]
        assert manifest["requests"][GPT]["route"] == "openai/responses/gpt-5"
        assert manifest["options"]["drift_reasoning_summary"] == "detailed"
        cassette = next((tmp_path / "cassettes" / "openai__gpt-5").rglob("r0.yaml")).read_text()
        assert "/v1/responses" in cassette and "encrypted_content" in cassette
        _replay_equal(tmp_path, GPT, *flags, server=server)
        other = run_evals(tmp_path, "--model", GPT, "--drift-reasoning-effort", "medium", "--drift-reasoning-summary",
                          "concise", "--drift-api-base", server.url, select="release_manager and default")
    assert other.returncode != 0 and "'summary': 'concise'" in other.stdout, other.stdout[-2000:]


@pytest.mark.slow
def test_two_models_each_with_its_own_server_from_one_config(tmp_path: Path) -> None:
    with OpenRouterServer(require_reasoning=True) as router, ResponsesServer() as responses:
        config = tmp_path / "roster.yaml"
        config.write_text(yaml.safe_dump({"models": {
            GEMINI3: {"reasoning_effort": "medium", "api_base": router.url, "input_per_mtok": 0.5,
                      "output_per_mtok": 3.0},
            GPT: {"reasoning_effort": "medium", "reasoning_summary": "detailed", "api_base": responses.url}}}))
        res = run_evals(tmp_path, "--model", GEMINI3, "--model", GPT, "--drift-config", str(config),
                        "--record-mode", "once", "--drift-report", str(tmp_path / "out"),
                        select="release_manager and default")
        got = {o["model"]: o for o in outcomes(tmp_path / "out")}
        assert set(got) == {GEMINI3, GPT} and all(o["label_status"] == "ok" for o in got.values()), res.stdout[-3000:]
        assert router.requests and responses.requests
        assert all(r["status"] == 200 for r in [*router.requests, *responses.requests])
        # the configured price counts: tokens x price, not litellm's (absent) table
        u = got[GEMINI3]["usage"]
        assert u["cost_usd"] == pytest.approx((u["prompt_tokens"] * 0.5 + u["completion_tokens"] * 3.0) / 1e6)
        planned = run_evals(tmp_path, "--model", GEMINI3, "--drift-reasoning-effort", "medium", "--drift-api-base",
                            router.url, "--record-mode", "all", "--drift-max-cost", "5", "--drift-plan",
                            select="release_manager and default")
        assert "does not count unpriced models" in planned.stdout and GEMINI3 in planned.stdout


# -- ready ------------------------------------------------------------------------------------------
def test_ready_makes_one_round_trip_and_records_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_drift.cli.main import main

    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    with OpenRouterServer(require_reasoning=True) as server:
        assert main(["ready", GEMINI3, "--api-base", server.url, "--reasoning-effort", "medium"]) == 0
    out = capsys.readouterr().out
    assert [r["status"] for r in server.requests] == [200, 200]
    assert server.requests[1]["body"]["messages"][2]["reasoning_details"]  # the echo went back at call 2
    assert "call 1 returned: lookup" in out and "echo ['reasoning_details']" in out and "ready; cost unpriced" in out
    assert not list(tmp_path.rglob("*.yaml"))  # nothing recorded
    assert main(["ready", GEMINI3, "--api-base", "http://127.0.0.1:9/api/v1", "--reasoning-effort", "medium"]) == 1
    err = capsys.readouterr().err
    assert f"not ready: {GEMINI3}: call 1: APIConnectionError" in err


def test_ready_names_what_is_wrong_before_any_call(capsys: pytest.CaptureFixture[str],
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_drift.cli.main import main

    monkeypatch.delenv("OPENROUTER_API_KEY", raising=False)
    assert main(["ready", GEMINI3, "anthropic/claude-sonnet-4-5", "--reasoning-summary", "detailed"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert len(err) == 2 and all(": call 0: " in line for line in err)
    assert "only for OpenAI reasoning models" in err[0]
    assert main(["ready", GEMINI3]) == 1
    assert "OPENROUTER_API_KEY is not set" in capsys.readouterr().err

def test_ready_takes_each_models_settings_from_a_config(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_drift.cli.main import main

    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("DEEPSEEK_API_KEY", raising=False)
    with ResponsesServer() as responses, ThinkingModeServer() as thinking:
        config = tmp_path / "m.yaml"
        config.write_text(yaml.safe_dump({"models": {
            GPT: {"reasoning_effort": "low", "reasoning_summary": "detailed", "api_base": responses.url},
            DEEPSEEK: {"reasoning_effort": "medium", "api_base": thinking.url}}}))
        assert main(["ready", GPT, DEEPSEEK, "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert '"model": "openai/responses/gpt-5"' in out and "echo ['reasoning_items']" in out
    assert "echo ['reasoning_content']" in out and out.count("ready; cost $") == 2
    assert responses.summaries == ["detailed", "detailed"] and [r["status"] for r in thinking.requests] == [200, 200]


@pytest.mark.parametrize("models, flags, message", [
    ({}, ["--model", "anthropic/claude-sonnet-4-5", "--drift-reasoning-summary", "detailed"],
     "only for OpenAI reasoning models"),
    ({"openai/gpt-4o-mini": {"reasoning_summary": "detailed"}}, ["--model", "openai/gpt-4o-mini"], "without reasoning"),
    ({GPT: {"api_base": "localhost:80"}}, ["--model", GPT], "expected an http\\(s\\) URL"),
    ({GPT: {"output_per_mtok": -2, "input_per_mtok": 1}}, ["--model", GPT], "must be >= 0"),
    ({GPT: {"reasoning_summery": "auto"}}, ["--model", GPT], "unknown key"),
])
def test_bad_roster_settings_stop_a_run_before_any_call(tmp_path: Path, models: dict[str, Any], flags: list[str],
                                                        message: str) -> None:
    if models:
        (tmp_path / "m.yaml").write_text(yaml.safe_dump({"models": models}))
        flags = [*flags, "--drift-config", str(tmp_path / "m.yaml")]
    with OpenRouterServer() as server:  # never reached
        res = run_evals(tmp_path, *flags, "--drift-api-base", server.url, "--record-mode", "once",
                        select="release_manager and default")
    assert res.returncode == pytest.ExitCode.USAGE_ERROR and not server.requests
    assert re.search(message, res.stdout + res.stderr), res.stderr[-1000:]
