"""What each provider is sent (models.request): nothing it refuses, every change written down,
settings that cannot work refused before any call."""

from __future__ import annotations

from pathlib import Path

import pytest

from pytest_drift.models import parse_model
from pytest_drift.models.endpoint import request_plan
from pytest_drift.models.request import Decoding, RequestError
from pytest_drift.params import ParamError, model_decodings


def plan(model: str, **asked: object):  # type: ignore[no-untyped-def]
    return request_plan(parse_model(model), Decoding(**asked))  # type: ignore[arg-type]


def test_anthropic_gets_no_seed_and_the_change_is_written_down() -> None:
    p = plan("anthropic/claude-sonnet-4-5")
    assert not p.send_seed and "temperature" not in p.params
    assert any(c.startswith("seed not sent") for c in p.changes)
    assert plan("openai/gpt-4o-mini").send_seed and plan("openai/gpt-4o-mini").changes == ()


def test_a_thinking_budget_raises_the_cap_above_it_and_sends_no_temperature() -> None:
    p = plan("anthropic/claude-sonnet-4-5", thinking_tokens=16000)
    assert p.params == {"max_tokens": 20000, "thinking": {"type": "enabled", "budget_tokens": 16000}}
    assert p.reasoning_room == 16000 and any("raised to 20000" in c for c in p.changes)
    assert plan("anthropic/claude-sonnet-4-5", thinking_tokens=16000, temperature=1.0).params["temperature"] == 1.0


def test_an_effort_is_sent_as_reasoning_effort_with_room_for_it() -> None:
    p = plan("openai/gpt-5", reasoning_effort="medium")
    assert p.params["reasoning_effort"] == "medium" and p.params["max_tokens"] > 16000 and "temperature" not in p.params
    a = plan("anthropic/claude-sonnet-4-5", reasoning_effort="high")
    assert a.params["reasoning_effort"] == "high" and a.params["max_tokens"] > a.reasoning_room > 0


def test_a_reasoning_model_never_gets_a_default_temperature_it_refuses() -> None:
    judge = request_plan(parse_model("openai/gpt-5"), Decoding(), defaults=(0.0, 512))
    assert "temperature" not in judge.params and any("temperature 0 not sent" in c for c in judge.changes)
    assert request_plan(parse_model("openai/gpt-4o-mini"), Decoding(), defaults=(0.0, 512)).params["temperature"] == 0.0


@pytest.mark.parametrize(("model", "asked", "says"), [
    ("openai/gpt-4o-mini", {"reasoning_effort": "low"}, "takes no reasoning effort"),
    ("openai/gpt-5", {"thinking_tokens": 2000}, "takes no thinking budget"),
    ("anthropic/claude-sonnet-4-5", {"thinking_tokens": 64000}, "output limit of 64000"),
    ("anthropic/claude-sonnet-4-5", {"thinking_tokens": 500}, "at least 1024"),
    ("anthropic/claude-sonnet-4-5", {"thinking_tokens": 2000, "temperature": 0.0}, "only temperature 1"),
    ("openai/gpt-5", {"temperature": 0.2}, "only temperature 1"),
    ("openai/o3", {"reasoning_effort": "minimal"}, "gpt-5 family"),
    ("anthropic/claude-sonnet-4-5", {"thinking_tokens": 2000, "reasoning_effort": "low"}, "not both"),
    ("local/smollm2-135m", {"reasoning_effort": "low"}, "no reasoning settings"),
])
def test_settings_that_cannot_work_are_refused(model: str, asked: dict[str, object], says: str) -> None:
    with pytest.raises(RequestError, match=says):
        plan(model, **asked)


def test_an_unknown_model_is_sent_what_was_asked_and_says_it_is_unchecked() -> None:
    p = plan("openai/my-own-model", reasoning_effort="low")
    assert p.params["reasoning_effort"] == "low" and any("does not know" in c for c in p.changes)


def test_per_model_settings_come_from_a_config_file(tmp_path: Path) -> None:
    f = tmp_path / "models.yaml"
    f.write_text("models:\n  openai/gpt-5: {reasoning_effort: medium}\n"
                 "  anthropic/claude-sonnet-4-5: {thinking_tokens: 16000}\n")
    got = dict(model_decodings([str(f)]))
    assert got["openai/gpt-5"] == Decoding(reasoning_effort="medium")
    assert got["anthropic/claude-sonnet-4-5"] == Decoding(thinking_tokens=16000)
    f.write_text("models:\n  openai/gpt-5: {effort: medium}\n")
    with pytest.raises(ParamError, match="expected a mapping of reasoning_effort"):
        model_decodings([str(f)])
    f.write_text("models:\n  openai/gpt-5: {thinking_tokens: lots}\n")
    with pytest.raises(ParamError, match="expected int"):
        model_decodings([str(f)])


def test_a_model_setting_overrides_the_run_and_keeps_the_rest() -> None:
    assert Decoding(reasoning_effort="high").over(Decoding(max_tokens=100, reasoning_effort="low")) == \
        Decoding(max_tokens=100, reasoning_effort="high")


@pytest.mark.parametrize("flags", [
    ["--model", "openai/gpt-4o-mini", "--drift-reasoning-effort", "low"],
    ["--model", "anthropic/claude-sonnet-4-5", "--drift-thinking-tokens", "90000"],
    ["--model", "openai/gpt-5", "--drift-thinking-tokens", "2000"],
])
def test_bad_reasoning_flags_are_usage_errors_before_any_test(pytester: pytest.Pytester, flags: list[str]) -> None:
    pytester.makepyfile(test_any="def test_any(outcome):\n    pass\n")
    res = pytester.runpytest_subprocess(*flags, "-p", "no:cacheprovider")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*ERROR: --model *"])


def test_an_effort_outside_the_choices_is_refused_by_the_option(pytester: pytest.Pytester) -> None:
    res = pytester.runpytest_subprocess("--drift-reasoning-effort", "extreme", "-p", "no:cacheprovider")
    assert res.ret == pytest.ExitCode.USAGE_ERROR
    res.stderr.fnmatch_lines(["*invalid choice*"])
