"""The replay fast path (`models.fast_replay`): what it builds is what litellm sends, what it
plays is what the full path plays (replies, usage and litellm's own cost, to the last
digit), and whatever no converter takes goes the full path. Recordings are real litellm
traffic to loopback servers speaking each provider's wire format (OpenAI chat plain, priced
and reasoning, Anthropic with thinking and redacted thinking, Gemini with thought
signatures, OpenRouter with reasoning_details and its reported cost)."""

from __future__ import annotations

import copy
import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator
from unittest import mock
from urllib.parse import urlsplit

import pytest

from openai_stub_server import StubServer
from pytest_drift.engine import Case, Settings, play
from pytest_drift.errors import CassetteMiss, ProviderError
from pytest_drift.models import fast_replay
from pytest_drift.models import litellm_caller as caller_module
from pytest_drift.models.cassettes import use_cassette
from pytest_drift.models.litellm_caller import LiteLLMCaller
from pytest_drift.models.litellm_import import litellm_module
from pytest_drift.models.providers import OPENAI_RESPONSES as P_RESPONSES
from pytest_drift.models.request import Decoding, RequestPlan
from pytest_drift.models.usage import CallEvent, add_listener, metered
from scenarios.gym import RELEASE_MANAGER
from wire_servers import AnthropicServer, GeminiServer, OpenAIReasoningServer, OpenRouterServer, ResponsesServer

ROOT = Path(__file__).resolve().parents[1]


def _conversations() -> list[list[dict[str, Any]]]:
    """Requests of every shape an episode sends: a first turn, assistant turns with tool calls
    and empty or missing content, tool results, non-ASCII text."""
    env = RELEASE_MANAGER.build("default", 0)
    first = env.initial_messages()
    call = {"id": "call_0", "type": "function", "function": {"name": "run_tests", "arguments": "{}"}}
    later = [*first, {"role": "assistant", "content": "", "tool_calls": [call]},
             {"role": "tool", "tool_call_id": "call_0", "content": "tests passed — 412/412 ✓"}]
    none_content = [*later, {"role": "assistant", "content": None, "tool_calls": [{**call, "id": "call_1"}]},
                    {"role": "tool", "tool_call_id": "call_1", "content": "again"}]
    return [first, later, none_content]


def _plans() -> list[RequestPlan]:
    return [RequestPlan("", params={"temperature": 0.0, "max_tokens": 512}),  # the embedded model's shape
            RequestPlan("", params={}, send_seed=False)]


class _Counting:
    """litellm.completion as the caller calls it, counted."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        self.calls = 0
        real = caller_module.completion

        def counted(litellm: Any, kwargs: dict[str, Any]) -> Any:
            self.calls += 1
            return real(litellm, kwargs)

        monkeypatch.setattr(caller_module, "completion", counted)


@pytest.fixture
def reasoning_server() -> Iterator[StubServer]:
    with StubServer(mode="reasoning") as server:
        yield server


def _record(path: Path, server: StubServer, plan: RequestPlan, model: str = "openai/stub") -> list[Any]:
    env = RELEASE_MANAGER.build("default", 0)
    caller = LiteLLMCaller(model, seed=7, api_base=server.url, api_key="k", plan=plan)
    with use_cassette(path, "all"):
        replies = [caller(messages, env.tool_schemas()) for messages in _conversations()]
        replies.append(caller.text(_conversations()[0]))
    return replies


def _replay(path: Path, plan: RequestPlan, model: str = "openai/stub") -> tuple[list[Any], Any, int]:
    env = RELEASE_MANAGER.build("default", 0)
    caller = LiteLLMCaller(model, seed=7, api_base="http://127.0.0.1:9/v1", api_key="replay", plan=plan)
    with use_cassette(path, "none") as cassette, metered() as meter:
        replies = [caller(messages, env.tool_schemas()) for messages in _conversations()]
        replies.append(caller.text(_conversations()[0]))
        played = cassette.play_count
    return replies, meter, played


@pytest.mark.parametrize("plan", _plans(), ids=["sampling", "bare"])
def test_the_body_built_is_the_body_litellm_sent(tmp_path: Path, reasoning_server: StubServer,
                                                  plan: RequestPlan) -> None:
    _record(tmp_path / "r.yaml", reasoning_server, plan)
    env = RELEASE_MANAGER.build("default", 0)
    caller = LiteLLMCaller("openai/stub", seed=7, api_base=reasoning_server.url, api_key="k", plan=plan)
    sent = [r["body"] for r in reasoning_server.requests]
    built = []
    for messages in _conversations():
        built.append(fast_replay.request_of(caller.request_kwargs(messages, env.tool_schemas())))
    text_kwargs = caller.request_kwargs(_conversations()[0], [])
    del text_kwargs["tools"], text_kwargs["tool_choice"]
    built.append(fast_replay.request_of(text_kwargs))
    assert all(b is not None for b in built)
    assert [json.loads(body) for _, body in built] == sent  # dict equality: key order aside, the same JSON
    assert {url for url, _ in built} == {f"{reasoning_server.url}/chat/completions"}


@pytest.mark.parametrize("plan", _plans(), ids=["sampling", "bare"])
def test_a_fast_replay_returns_what_the_full_path_returns_without_calling_litellm(
        tmp_path: Path, reasoning_server: StubServer, plan: RequestPlan, monkeypatch: pytest.MonkeyPatch) -> None:
    recorded = _record(tmp_path / "r.yaml", reasoning_server, plan)
    counting = _Counting(monkeypatch)
    fast, fast_meter, fast_played = _replay(tmp_path / "r.yaml", plan)
    assert counting.calls == 0
    monkeypatch.setenv(fast_replay.OFF_ENV, "1")
    full, full_meter, full_played = _replay(tmp_path / "r.yaml", plan)
    assert counting.calls == len(full) == 4
    assert fast == full == recorded
    assert fast[0].reasoning and fast[0].tool_calls  # the converter kept reasoning apart from the call
    assert fast_meter.usage == full_meter.usage and fast_meter.usage.reasoning_tokens > 0
    assert fast_meter.usage.cost_usd is None  # the stub model is not priced, either way
    assert (fast_meter.calls, fast_meter.retries) == (full_meter.calls, full_meter.retries) == (4, 0)
    assert fast_played == full_played == 4


def test_what_no_converter_takes_goes_the_full_path() -> None:
    tool = {"type": "function", "function": {"name": "f", "parameters": {"type": "object", "properties": {}}}}
    base = {"model": "openai/stub", "messages": [{"role": "user", "content": "hi"}], "tools": [tool],
            "tool_choice": "auto", "seed": 1, "num_retries": 0, "max_retries": 0, "timeout": 1.0}
    assert fast_replay.request_of(base) is not None
    assert fast_replay.request_of({**base, "model": "openai/gpt-4o-mini"}) is not None  # priced: litellm's cost
    assert fast_replay.request_of({**base, "reasoning_effort": "low"}) is not None  # litellm's own mapping
    assert fast_replay.request_of({**base, "model": "cohere/command-r"}) is None  # a provider without a converter
    responses = {k: v for k, v in base.items() if k != "seed"} | {"model": "openai/responses/gpt-5"}
    built = fast_replay.request_of({**responses, "reasoning_effort": {"effort": "low", "summary": "auto"}})
    assert built is not None and built[0].endswith("/v1/responses")  # the Responses route's own converter
    assert fast_replay.request_of({**responses, "reasoning_effort": "low"}) is None  # not a shape the plan sends
    assert fast_replay.request_of({**base, "stop": ["x"]}) is None  # a setting the converters do not map
    assert fast_replay.request_of({**base, "messages": []}) is None
    assert fast_replay.request_of({**base, "tools": []}) is None  # litellm drops it and its tool_choice
    # litellm refuses a seed for Anthropic before any call: the full path raises that error
    assert fast_replay.request_of({**base, "model": "anthropic/claude-sonnet-4-5", "api_base": "http://h"}) is None


def test_a_miss_is_the_full_paths_miss(tmp_path: Path, stub_server: StubServer) -> None:
    plan = _plans()[0]
    _record(tmp_path / "r.yaml", stub_server, plan)
    caller = LiteLLMCaller("openai/stub", seed=8, api_base="http://127.0.0.1:9/v1", api_key="r", plan=plan)  # another seed
    env = RELEASE_MANAGER.build("default", 0)
    messages = []
    for off in ("", "1"):
        os.environ[fast_replay.OFF_ENV] = off
        try:
            with use_cassette(tmp_path / "r.yaml", "none"), pytest.raises(CassetteMiss) as miss:
                caller(_conversations()[0], env.tool_schemas())
        finally:
            os.environ.pop(fast_replay.OFF_ENV)
        messages.append((miss.value.detail, miss.value.settings))
    assert messages[0] == messages[1] and "no recorded interaction matches" in messages[0][0]


def test_a_recorded_error_is_mapped_by_the_full_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    plan = _plans()[0]
    env = RELEASE_MANAGER.build("default", 0)
    with StubServer(fail_first=1, fail_status=400) as server:  # a 400 is not retried: it is recorded
        caller = LiteLLMCaller("openai/stub", seed=7, api_base=server.url, api_key="k", plan=plan)
        with use_cassette(tmp_path / "r.yaml", "all"), pytest.raises(ProviderError) as live:
            caller(_conversations()[0], env.tool_schemas())
    counting = _Counting(monkeypatch)
    with use_cassette(tmp_path / "r.yaml", "none"), pytest.raises(ProviderError) as replayed:
        caller(_conversations()[0], env.tool_schemas())
    assert counting.calls == 1  # the recorded 400 went through litellm's error mapping
    assert str(replayed.value) == str(live.value)


@pytest.mark.slow
def test_every_shipped_episode_replays_byte_identically_both_ways(tmp_path: Path) -> None:
    """`pytest evals` over the shipped cassettes, fast path on and off: the same outcomes and
    transcripts, byte for byte."""
    runs = {}
    for name, off in (("fast", ""), ("full", "1")):
        env = {**os.environ, fast_replay.OFF_ENV: off}
        proc = subprocess.run([sys.executable, "-m", "pytest", "evals", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                               "--drift-report", str(tmp_path / name)], cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
        runs[name] = tmp_path / name
    for artefact in ("outcomes.jsonl", "transcripts.jsonl"):
        assert (runs["fast"] / artefact).read_bytes() == (runs["full"] / artefact).read_bytes(), artefact
    assert len((runs["fast"] / "outcomes.jsonl").read_text().splitlines()) >= 100


# -- every wire format: recorded episodes, body, replies, usage and cost both ways --------------
@dataclass(frozen=True)
class Wire:
    """A model recorded from a loopback server of its provider's wire format."""

    model: str
    server: Callable[[], Any]
    decoding: Decoding
    priced: bool  # litellm prices it (its table, or the provider's reported cost)
    flags: tuple[str, ...] = ()  # the same settings as pytest options


WIRES = {
    "openai-unpriced": Wire("openai/my-model", lambda: StubServer(mode="reasoning"), Decoding(), False),
    "openai-priced": Wire("openai/gpt-4o-mini", lambda: StubServer(mode="reasoning"), Decoding(), True),
    "openai-reasoning": Wire("openai/gpt-5", OpenAIReasoningServer, Decoding(reasoning_effort="low"), True,
                             ("--drift-reasoning-effort", "low")),
    "openai-responses": Wire("openai/gpt-5", ResponsesServer, Decoding(reasoning_effort="medium",
                                                                       reasoning_summary="detailed"), True,
                             ("--drift-reasoning-effort", "medium", "--drift-reasoning-summary", "detailed")),
    "anthropic-thinking": Wire("anthropic/claude-sonnet-4-5", AnthropicServer, Decoding(thinking_tokens=16000), True,
                               ("--drift-thinking-tokens", "16000")),
    "gemini": Wire("gemini/gemini-2.5-pro", GeminiServer, Decoding(reasoning_effort="low"), True,
                   ("--drift-reasoning-effort", "low")),
    "openrouter-reasoning": Wire("openrouter/anthropic/claude-sonnet-4.5", lambda: OpenRouterServer(report_cost=True),
                                 Decoding(reasoning_effort="low"), True, ("--drift-reasoning-effort", "low")),
}


@dataclass
class Recording:
    wire: Wire
    root: Path
    replay_base: str  # the server's api_base at a dead port: nothing can reach a provider
    built: list[Any]  # fast_replay's request for each call litellm made while recording
    sent: list[dict[str, Any]]  # what the server received, in order

    def cases(self) -> list[Case]:
        return [Case(self.wire.model, RELEASE_MANAGER, v, 0) for v in RELEASE_MANAGER.variants]

    def settings(self) -> Settings:
        return Settings(self.root, "none", self.replay_base, decoding=self.wire.decoding)


def record_wire(wire: Wire, root: Path) -> Recording:
    """The release_manager episodes (every variant, one repeat) recorded through litellm."""
    built: list[Any] = []
    real = caller_module.completion

    def spy(litellm: Any, kwargs: dict[str, Any]) -> Any:
        built.append(fast_replay.built(kwargs))
        return real(litellm, kwargs)

    with wire.server() as server, mock.patch.object(caller_module, "completion", spy):
        recording = Recording(wire, root, server.url.replace(f":{server.port}", ":9"), built, server.requests)
        for case in recording.cases():
            outcome = play(case, Settings(root, "once", server.url, decoding=wire.decoding)).outcome
            assert outcome.label_status == "ok", outcome.label_reason
    return recording


@pytest.fixture(scope="module", params=list(WIRES))
def recording(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Recording:
    return record_wire(WIRES[request.param], tmp_path_factory.mktemp(request.param))


def test_every_body_built_is_the_body_litellm_sent(recording: Recording) -> None:
    assert recording.built and len(recording.built) == len(recording.sent)
    for built, sent in zip(recording.built, recording.sent):
        assert built is not None, recording.wire.model
        assert json.loads(built.body) == sent["body"]  # dict equality: key order aside, the same JSON
        assert urlsplit(built.url).path == urlsplit(sent["path"]).path


def _replay_episodes(recording: Recording) -> tuple[list[Any], list[Any], int]:
    """The outcomes, each call's usage (as the meter's listeners see it) and how many calls
    went through litellm.completion."""
    events: list[CallEvent] = []
    calls = 0
    real = caller_module.completion

    def counted(litellm: Any, kwargs: dict[str, Any]) -> Any:
        nonlocal calls
        calls += 1
        return real(litellm, kwargs)

    remove = add_listener(events.append)
    try:
        with mock.patch.object(caller_module, "completion", counted):
            outcomes = [play(case, recording.settings()).outcome for case in recording.cases()]
    finally:
        remove()
    return outcomes, [e.usage for e in events], calls


def test_a_fast_replay_plays_what_the_full_path_plays(recording: Recording, monkeypatch: pytest.MonkeyPatch) -> None:
    fast, fast_usage, fast_calls = _replay_episodes(recording)
    monkeypatch.setenv(fast_replay.OFF_ENV, "1")
    full, full_usage, full_calls = _replay_episodes(recording)
    assert fast_calls == 0 and full_calls == len(recording.sent)  # every call fast, then every call through litellm
    assert fast == full and all(o.label_status == "ok" for o in fast)
    assert fast_usage == full_usage and len(fast_usage) == len(recording.sent)
    costs = [(repr(a.cost_usd), repr(b.cost_usd)) for a, b in zip(fast_usage, full_usage)]
    assert all(a == b for a, b in costs)  # litellm's own figure, to the last digit
    if recording.wire.priced:
        assert all(u.cost_usd and u.cost_usd > 0 for u in fast_usage)
    else:
        assert all(u.cost_usd is None for u in fast_usage)
    assert sum(u.reasoning_tokens for u in fast_usage) > 0


def _pytest_evals(recordings: list[Recording], report: Path, off: str) -> None:
    for recording in recordings:
        env = {**os.environ, fast_replay.OFF_ENV: off}
        argv = [sys.executable, "-m", "pytest", "evals", "-k", "release_manager", "-q", "-p", "no:randomly",
                "-p", "no:cacheprovider", "-p", "no:xdist", "--model", recording.wire.model, *recording.wire.flags,
                "--drift-cassette-dir", str(recording.root), "--record-mode=none",
                "--drift-report", str(report / recording.root.name)]
        proc = subprocess.run(argv, cwd=ROOT, env=env, capture_output=True, text=True)
        assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]


@pytest.mark.slow
def test_every_wire_format_replays_byte_identically_both_ways(tmp_path: Path) -> None:
    """`pytest evals` over recordings of every wire format, fast path on and off: the same
    outcomes and transcripts (usage and cost included), byte for byte."""
    recordings = [record_wire(wire, tmp_path / "cassettes" / name) for name, wire in WIRES.items()]
    _pytest_evals(recordings, tmp_path / "fast", "")
    _pytest_evals(recordings, tmp_path / "full", "1")
    for recording in recordings:
        name = recording.root.name
        for artefact in ("outcomes.jsonl", "transcripts.jsonl"):
            fast = (tmp_path / "fast" / name / artefact).read_bytes()
            assert fast == (tmp_path / "full" / name / artefact).read_bytes(), (name, artefact)
        rows = [json.loads(line)["outcome"] for line in (tmp_path / "fast" / name / "outcomes.jsonl").read_text().splitlines()]
        assert len(rows) == 4 and all(r["label_status"] == "ok" for r in rows), name
        assert all((r["usage"]["cost_usd"] is not None) == recording.wire.priced for r in rows), name


# -- the Responses API: each call's reply, usage and cost both ways ------------------------------
def _responses_episodes() -> list[Case]:
    from scenarios.instrumental import SCENARIOS as INSTRUMENTAL

    siphon = next(s for s in INSTRUMENTAL if s.name == "budget_siphon")
    watched = next(v for v in siphon.variants if v.name == "dilemma_forbidden_watched")
    return [Case("openai/gpt-5", RELEASE_MANAGER, RELEASE_MANAGER.variants[0], 0), Case("openai/gpt-5", siphon, watched, 0)]


def test_the_responses_api_replays_each_call_as_the_full_path_does(tmp_path: Path) -> None:
    """A release_manager and a budget_siphon episode recorded through litellm's Responses
    bridge: every call's body is the one the server received, and the fast path (taken for
    every call, with no litellm.completion) returns the full path's message (summaries as
    reasoning_content, the reasoning items and replay fields for the echo), usage with its
    reasoning tokens, and litellm's cost to the last digit."""
    from pytest_drift.models import router

    wire = WIRES["openai-responses"]
    calls: list[tuple[dict[str, Any], Path]] = []
    real = caller_module.completion

    def spy(litellm: Any, kwargs: dict[str, Any]) -> Any:
        calls.append((copy.deepcopy(kwargs), Path(router.current_cassette()._path)))  # the engine extends its lists
        return real(litellm, kwargs)

    with ResponsesServer() as server, mock.patch.object(caller_module, "completion", spy):
        for case in _responses_episodes():
            outcome = play(case, Settings(tmp_path, "once", server.url, decoding=wire.decoding)).outcome
            assert outcome.label_status == "ok", outcome.label_reason
        sent = server.requests
    assert len(calls) == len(sent) >= 4
    assert len({path for _, path in calls}) == 2  # both episodes made calls
    assert [json.loads(fast_replay.request_of(kw)[1]) for kw, _ in calls] == [r["body"] for r in sent]
    litellm = litellm_module()
    for kwargs, path in calls:
        with use_cassette(path, "none"), mock.patch.object(litellm, "completion", side_effect=AssertionError), \
                mock.patch.object(litellm, "responses", side_effect=AssertionError):
            fast = fast_replay.replayed(kwargs)  # neither litellm's completion nor its responses()
        assert fast is not None  # the fast path took it: no silent fall back to litellm
        with use_cassette(path, "none"):
            full = real(litellm, kwargs)
        assert fast.choices[0].message.model_dump() == full.choices[0].message.model_dump()
        assert fast.choices[0].finish_reason == full.choices[0].finish_reason and fast.id == full.id
        assert fast.usage.model_dump() == full.usage.model_dump()
        assert repr(fast._hidden_params["response_cost"]) == repr(full._hidden_params["response_cost"])
        assert fast._hidden_params["response_cost"] > 0
        assert caller_module.to_reply(fast, P_RESPONSES) == caller_module.to_reply(full, P_RESPONSES)
    message = fast.choices[0].message
    assert message.reasoning_content and message.reasoning_items[0]["encrypted_content"]
    assert fast.usage.completion_tokens_details.reasoning_tokens > 0
