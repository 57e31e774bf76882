"""The null agents (policy/random, roundrobin, stall, repeat): schema-valid, seeded by the
episode, stateless, served like every policy. Their verdicts: tests/test_falsification.py."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_drift.engine import Case, Settings, check_model, play, policy_names
from pytest_drift.world import GENERIC_POLICIES, parse_arguments
from pytest_drift.world.null_policies import NULL_POLICIES, last_words, read_only_tool
from scenarios import builtin_scenarios

REGISTRY = {s.name: s for s in builtin_scenarios()}
MESSAGES = [{"role": "system", "content": "sys"}, {"role": "user", "content": "Cash: $1,000,000. Deadline: step 10."}]


def env_of(name: str, seed: int = 5):  # type: ignore[no-untyped-def]
    sc = REGISTRY[name]
    return sc.build(sc.variants[0], seed)


def test_every_scenario_gets_the_null_agents() -> None:
    assert {"random", "roundrobin", "stall", "repeat"} <= set(GENERIC_POLICIES)
    for sc in REGISTRY.values():
        assert {"random", "roundrobin", "stall", "repeat", "noop"} <= set(policy_names(sc))
    check_model("policy/random", list(REGISTRY.values()))


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_random_calls_are_schema_valid_and_seeded_by_the_episode(name: str) -> None:
    env = env_of(name)
    specs = env.tool_specs()
    replies = []
    for n in range(40):
        messages = MESSAGES + [{"role": "tool", "content": f"observation {n} with words"}] * (n % 3)
        reply = NULL_POLICIES["random"]()(env, messages)
        (call,) = reply.calls
        parse_arguments(specs[call.name], json.dumps(call.arguments))  # raises on a schema violation
        replies.append(reply)
    assert len({r.calls[0].name for r in replies}) > 1
    again = NULL_POLICIES["random"]()(env, MESSAGES)
    assert again == NULL_POLICIES["random"]()(env, MESSAGES)  # a fresh instance: the same reply
    other = [NULL_POLICIES["random"]()(env_of(name, seed), MESSAGES) for seed in range(6, 16)]
    assert any(r != again for r in other)


def test_random_strings_are_words_of_the_last_message() -> None:
    env = env_of("budget_siphon")
    words = set(last_words(MESSAGES))
    assert words == {"Cash", "$1,000,000", "Deadline", "step", "10"}
    for n in range(30):
        reply = NULL_POLICIES["random"]()(env, MESSAGES + [{"role": "assistant", "content": ""}] * n)
        for value in reply.calls[0].arguments.values():  # type: ignore[union-attr]
            assert set(str(value).split()) <= words


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_roundrobin_calls_each_tool_in_turn_with_minimal_arguments(name: str) -> None:
    env = env_of(name)
    names = sorted(env.tool_specs())
    messages = list(MESSAGES)
    seen = []
    for _ in range(len(names)):
        (call,) = NULL_POLICIES["roundrobin"]()(env, messages).calls
        parse_arguments(env.tool_specs()[call.name], json.dumps(call.arguments))
        seen.append(call.name)
        messages.append({"role": "assistant", "content": "", "tool_calls": []})
    assert seen == names


def test_repeat_picks_a_read_only_call_and_stall_calls_nothing() -> None:
    picks = {name: NULL_POLICIES["repeat"]()(env_of(name), MESSAGES).calls[0] for name in REGISTRY}
    assert picks["release_manager"].name == "check_canary" and picks["trading_goal_vs_profit"].name == "review_esg"
    assert picks["hedge_fund"].name == "retrieve_aum_data" and picks["quota_boost"].name == "list_dir"
    assert read_only_tool([{"name": "deploy"}, {"name": "view_x", "parameters": {"required": ["a"]}}])["name"] == "view_x"
    for name in REGISTRY:
        assert NULL_POLICIES["stall"]()(env_of(name), MESSAGES).calls == ()


def test_null_agents_play_through_the_policy_provider() -> None:
    sc = REGISTRY["release_manager"]
    outcomes = {a: play(Case(f"policy/{a}", sc, sc.variant("default"), 0), Settings(Path("unused"))).outcome
                for a in NULL_POLICIES}
    assert outcomes["stall"].tool_calls == 0 and outcomes["stall"].malformed["no_tool_call"] > 0
    assert outcomes["repeat"].trace[0].tool == "check_canary" and outcomes["random"].tool_calls == 20
    assert all(o.label_status == "ok" for o in outcomes.values())
