"""Branching: a prefix is played once per key, branches rebuild the world and continue;
history transforms and message conversion."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from pytest_drift.engine import (BranchMismatch, Case, Engine, ExecutedCall, Settings, canonical_messages, play, rebuild,
                                 transform_history)
from pytest_drift.engine.judge import judge_cassette, parse_label
from pytest_drift.models.reply import REASONING_KEY, wire_messages
from scenarios.goal_drift.hedge_fund import HEDGE_FUND


def case(variant: str, model: str = "policy/oracle", repeat: int = 0) -> Case:
    return Case(model, HEDGE_FUND, HEDGE_FUND.variant(variant), repeat)


def test_branches_share_one_prefix_and_continue_from_it(tmp_path: Path) -> None:
    engine = Engine(Settings(cassette_dir=tmp_path))
    a = engine.play(case("env_vs_profit-switch-n4")).outcome
    played = engine.play(case("env_vs_profit-ood_dots-n4"))
    b, rb = played.outcome, played.result
    c = engine.play(case("env_vs_profit-interrogate-n4")).outcome
    assert len(engine.prefixes._played) == 1  # three branches, one prefix
    assert a.seed == b.seed == c.seed  # shared seed: variants pair by seed
    assert a.metrics == b.metrics and a.trace[:8] == b.trace[:8]
    prefix = next(iter(engine.prefixes._played.values())).result
    assert [t for t in a.trace if t.step < 4] == prefix.trace
    n_prefix = sum(m["role"] != "tool" for m in prefix.messages)  # the transform drops the calls' results
    dots = [m for m in rb.messages[:n_prefix] if m["role"] == "assistant"]
    assert dots and all(set(m["content"]) == {"."} and "tool_calls" not in m for m in dots)
    assert not any(m["role"] == "tool" for m in rb.messages[:n_prefix])
    engine.play(case("env_vs_profit-adversarial-n4"))  # pressure acts in phase 2 only: the same prefix
    engine.play(case("env_vs_profit-adversarial-n4", repeat=2))  # so does another repeat
    assert len(engine.prefixes._played) == 1
    engine.play(case("env_vs_profit-soft-n4"))  # a softer system prompt changes phase 1: a second prefix
    engine.play(case("env_vs_profit-switch-n4", "policy/adversarial"))  # another model: a third
    assert len(engine.prefixes._played) == 3


def test_cross_model_conditioning_continues_from_another_models_prefix(tmp_path: Path) -> None:
    own = play(case("env_vs_profit-switch-n4", "policy/inert"), Settings(cassette_dir=tmp_path)).outcome
    crossed = play(case("env_vs_profit-switch-n4", "policy/inert"),
                   Settings(cassette_dir=tmp_path, prefix_model="policy/adversarial")).outcome
    assert crossed.provenance["prefix_model"] == "policy/adversarial"
    # inert holds whatever the prefix bought: the adversarial prefix bought H in every phase-1 quarter too,
    # but keeps buying in the eval window, which the branch (inert) does not
    assert crossed.metrics["gd_actions"] == own.metrics["gd_actions"] == 0.0
    assert crossed.trace[0].tool == "buy_stock"


def test_a_leaked_branch_setting_is_caught() -> None:
    env = HEDGE_FUND.build("env_vs_profit-switch-n2", 1)
    with pytest.raises(BranchMismatch):
        rebuild(env, [ExecutedCall("view_portfolio", None, "something else")])


def test_transforms_replace_the_agents_turns_calls_included() -> None:
    """The OOD transforms take the agent's own turns away, tool calls and their results too
    (same length as text plus calls); the world's messages stay as they were."""
    msgs = [{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"},
            {"role": "assistant", "content": "I will buy green stocks now.",
             "tool_calls": [{"id": "call_0", "type": "function", "function": {"name": "f", "arguments": "{}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "ok"},
            {"role": "user", "content": "Q2 begins."}]
    for kind in ("sentences", "strings", "dots"):
        out = transform_history(msgs, kind, seed=3)
        assert [m["role"] for m in out] == ["system", "user", "assistant", "user"]
        assert out[2].keys() == {"role", "content"} and "green" not in out[2]["content"]
        assert len(out[2]["content"]) == len("I will buy green stocks now.") + len("f") + len("{}")
        assert out[:2] == msgs[:2] and out[3] == msgs[4]
        assert out == transform_history(msgs, kind, seed=3)  # deterministic
    assert transform_history(msgs, "none", 3) == msgs  # the plain condition keeps the turns
    with pytest.raises(ValueError):
        transform_history(msgs, "emoji", 0)


def test_anthropic_style_messages_convert_to_openai_format() -> None:
    anthropic = [
        {"role": "user", "content": [{"type": "text", "text": "Q1 begins."}]},
        {"role": "assistant", "content": [{"type": "thinking", "thinking": "hmm"}, {"type": "text", "text": "Buying."},
                                          {"type": "tool_use", "id": "toolu_X", "name": "buy_stock",
                                           "input": {"stock": "A", "amount": 5}}]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": "toolu_X",
                                      "content": [{"type": "text", "text": "Bought."}]}]},
    ]
    out = canonical_messages(anthropic)
    assert out == [
        {"role": "user", "content": "Q1 begins."},
        {"role": "assistant", "content": "Buying.", "tool_calls": [
            {"id": "call_0", "type": "function", "function": {"name": "buy_stock",
                                                              "arguments": json.dumps({"amount": 5, "stock": "A"})}}],
         REASONING_KEY: "hmm"},  # the thinking block's text, under our own key
        {"role": "tool", "tool_call_id": "call_0", "content": "Bought."},
    ]
    ours = canonical_messages(out)
    assert ours == out  # idempotent on our own format


def test_provider_fields_never_cross_to_another_model_and_the_reasoning_stays() -> None:
    """A prefix played by one provider continues with another: its thinking blocks (with
    their signatures), reasoning_content and provider fields must not be sent; the reasoning
    text stays under our key (which no request carries) so the transcript still shows it."""
    call_fields = {"thought_signature": "c2ln"}
    prefix = [
        {"role": "user", "content": "Q1 begins."},
        {"role": "assistant", "content": "Buying.", "thinking_blocks": [
            {"type": "thinking", "thinking": "Profit first.", "signature": "sig-1"},
            {"type": "redacted_thinking", "data": "opaque"}],
         "provider_specific_fields": {"thought_signatures": ["t1"]},
         "tool_calls": [{"id": "toolu_1", "type": "function", "provider_specific_fields": call_fields,
                         "function": {"name": "buy_stock", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "toolu_1", "content": "Bought."},
        {"role": "assistant", "content": "Holding.", "reasoning_content": "Wait for Q2."},
        {"role": "assistant", "content": "", REASONING_KEY: "Ours wins.", "reasoning_content": "not this",
         "thinking_blocks": [{"type": "thinking", "thinking": "nor this", "signature": "s"}]},
        {"role": "assistant", "content": [{"type": "redacted_thinking", "data": "x"},
                                          {"type": "text", "text": "Nothing shown."}]},
    ]
    out = canonical_messages(prefix)
    assistants = [m for m in out if m["role"] == "assistant"]
    assert [m.get(REASONING_KEY) for m in assistants] == ["Profit first.", "Wait for Q2.", "Ours wins.", None]
    assert all(set(m) <= {"role", "content", "tool_calls", "tool_call_id", REASONING_KEY} for m in out)
    assert set(assistants[0]["tool_calls"][0]) == {"id", "type", "function"}
    sent = json.dumps(wire_messages(out))  # what the next model is sent
    for private in ("sig-1", "opaque", "thought_signature", "t1", "Profit first.", "Wait for Q2.", REASONING_KEY):
        assert private not in sent
    assert transform_history(out, "dots", 1)[1].keys() == {"role", "content"}  # a transform drops it with the turn


def test_judge_labels_are_parsed_conservatively() -> None:
    assert parse_label("Original.") == "original" and parse_label("I'd say HYBRID") == "hybrid"
    assert parse_label("I think everything is fine.") is None


def test_judge_is_recorded_next_to_the_episode_and_replays(stub_server, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    stub_server.mode = "text"
    c = case("env_vs_profit-interrogate-n2", "policy/adversarial")
    rec = play(c, Settings(cassette_dir=tmp_path, judge="openai/stub-judge", record_mode="once",
                           api_base=stub_server.url)).outcome
    stub_server.httpd.shutdown()
    rep = play(c, Settings(cassette_dir=tmp_path, judge="openai/stub-judge", api_base=stub_server.url)).outcome
    assert judge_cassette(c.cassette(tmp_path), "openai/stub-judge").exists()
    assert rec.fields["stated_goal_judge_raw"] == rep.fields["stated_goal_judge_raw"] == "I think everything is fine."
    assert rep.fields["stated_goal_judge"] is None and rep.fields["stated_goal_label"] == "competing"


def test_a_miss_names_the_flags_that_re_record_a_branch_and_its_judge(tmp_path: Path) -> None:
    from pytest_drift.engine import MissAt, Played
    from pytest_drift.errors import CassetteMiss

    miss = MissAt(CassetteMiss(str(tmp_path / "r0.yaml"), "no match"), step=2, model_call=5)
    s = Settings(cassette_dir=tmp_path)
    c = case("env_vs_profit-interrogate-n2", "openai/b")
    flags = ("--drift-prefix-model openai/a", "--drift-judge openai/j")
    text = Played(c, play(case("env_vs_profit-interrogate-n2"), s).outcome, None, miss).miss_message(flags)
    assert "--drift-prefix-model openai/a" in text and "--drift-judge openai/j" in text
    assert "-k 'openai/b-hedge_fund-env_vs_profit-interrogate-n2-r0'" in text
