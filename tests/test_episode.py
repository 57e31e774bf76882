from pathlib import Path
from typing import Iterator

import pytest

from openai_stub_server import StubServer
from pytest_drift import Limits, Termination, run_episode
from pytest_drift.models.ratelimit import RetryPolicy, set_retry_policy
from pytest_drift.models import LiteLLMCaller, PolicyCaller
from pytest_drift.engine import Case, Settings, play
from scenarios.gym import RELEASE_MANAGER
from worlds import ECHO, GARBAGE, EchoWorld, Scripted

LIMITS = Limits()


def policy_episode(replies, limits=LIMITS):  # type: ignore[no-untyped-def]
    env = EchoWorld(ECHO.variant("plain"), 0)
    return env, run_episode(env, PolicyCaller(Scripted(replies), env), limits)


def test_malformed_output_is_observed_and_counted_never_raised() -> None:
    env, result = policy_episode(GARBAGE, Limits(max_calls_per_step=10))
    assert result.malformed == {"unknown_tool": 1, "bad_arguments": 3, "oversized_arguments": 1, "no_tool_call": 1}
    assert env.total == 5  # both calls of the last response ran, in order
    tool_msgs = [m["content"] for m in result.messages if m["role"] == "tool"]
    assert "unknown tool 'no_such_tool'" in tool_msgs[0] and "not valid JSON" in tool_msgs[1]
    assert result.termination is Termination.LOOP_GUARD and result.score is not None  # then it waits forever


def test_loop_guard_stops_identical_call_and_result() -> None:
    _, result = policy_episode([])
    assert result.termination is Termination.LOOP_GUARD and result.tool_calls == 6


def test_text_only_agent_hits_the_per_step_limit() -> None:
    env = EchoWorld(ECHO.variant("plain"), 0)
    from pytest_drift.world import Noop
    result = run_episode(env, PolicyCaller(Noop(), env), Limits(max_calls_per_step=3))
    assert result.termination is Termination.MAX_CALLS_PER_STEP and result.malformed == {"no_tool_call": 3}
    assert env.step == env.max_steps  # the rest of the world passed idle


@pytest.mark.parametrize("mode, kind", [("garbage", "unknown_tool"), ("empty", "empty_response"), ("text", "no_tool_call")])
def test_malformed_http_replies(mode: str, kind: str) -> None:
    with StubServer(mode=mode) as server:
        env = RELEASE_MANAGER.build("default", 0)
        caller = LiteLLMCaller("openai/stub", seed=0, api_base=server.url, api_key="k")
        result = run_episode(env, caller, LIMITS)
    assert result.malformed.get(kind, 0) >= 1
    assert result.score is not None and result.termination is Termination.MAX_CALLS_PER_STEP


@pytest.fixture
def quick_retries() -> Iterator[RetryPolicy]:
    """Live callers retry at once (no backoff), at most three times per kind."""
    policy = RetryPolicy(max_errors=3, max_rate_limited=3, base_delay=0.0)
    previous = set_retry_policy(policy)
    yield policy
    set_retry_policy(previous)


def test_litellm_caller_retries_5xx_itself_and_counts_it(quick_retries: RetryPolicy) -> None:
    with StubServer(fail_first=2, fail_status=503) as server:
        env = RELEASE_MANAGER.build("default", 0)
        caller = LiteLLMCaller("openai/stub", seed=0, api_base=server.url, api_key="k")
        result = run_episode(env, caller)
    assert len(server.requests) == result.model_calls + 2  # two 503s retried by the caller, once each
    assert result.retries == 2 and result.score is not None
    assert result.usage.total_tokens == 2 * result.model_calls and result.usage.cost_usd is None  # unknown price


def test_persistent_provider_failure_is_labelled_unknown_not_scored(tmp_path: Path, quick_retries: RetryPolicy) -> None:
    with StubServer(fail_first=10**6, fail_status=429) as server:
        settings = Settings(tmp_path, record_mode="all", api_base=server.url, limits=LIMITS)
        outcome = play(Case("openai/stub", RELEASE_MANAGER, RELEASE_MANAGER.variant("default"), 0), settings).outcome
        assert len(server.requests) == 1 + quick_retries.max_rate_limited
    assert outcome.label_status == "unknown" and outcome.termination == "provider_error"
    assert outcome.metrics == {} and "RateLimitError" in outcome.label_reason and "after 3 retries" in outcome.label_reason
    assert outcome.retries == 3


def test_a_provider_failure_keeps_no_partial_cassette_and_once_plays_it_again(tmp_path: Path,
                                                                              quick_retries: RetryPolicy) -> None:
    case = Case("openai/stub", RELEASE_MANAGER, RELEASE_MANAGER.variant("default"), 0)
    with StubServer(fail_after=3, fail_status=500) as server:  # three answers, then the provider is down
        settings = Settings(tmp_path, record_mode="once", api_base=server.url, limits=LIMITS)
        played = play(case, settings)
        assert played.outcome.label_status == "unknown" and played.outcome.termination == "provider_error"
        assert played.outcome.model_calls == 3
    assert not case.cassette(tmp_path).exists()  # a partial one would replay into a miss, never re-recorded
    with StubServer() as server:
        again = play(case, Settings(tmp_path, record_mode="once", api_base=server.url, limits=LIMITS))
    assert again.outcome.label_status == "ok" and case.cassette(tmp_path).exists()


def test_non_transient_error_is_not_retried(tmp_path: Path) -> None:
    with StubServer(fail_first=10**6, fail_status=401) as server:
        settings = Settings(tmp_path, record_mode="all", api_base=server.url, limits=LIMITS)
        outcome = play(Case("openai/stub", RELEASE_MANAGER, RELEASE_MANAGER.variant("default"), 0), settings).outcome
        assert len(server.requests) == 1
    assert outcome.label_status == "unknown" and outcome.retries == 0


def test_provider_errors_never_carry_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    from pytest_drift.errors import redact

    monkeypatch.setenv("MYPROVIDER_API_KEY", "plain-secret-value-123")
    text = redact("401: Incorrect API key provided: sk-proj-abcdef123456 (also plain-secret-value-123)")
    assert "sk-proj" not in text and "plain-secret" not in text and text.count("[redacted]") == 2
