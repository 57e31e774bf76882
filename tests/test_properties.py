"""Property tests: determinism and robustness of environments under any tool-call sequence."""

import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pytest_drift import PolicyCall, PolicyReply, run_episode
from pytest_drift.models import PolicyCaller
from scenarios import builtin_scenarios
from worlds import ECHO, Scripted

SCENARIOS = [*builtin_scenarios(), ECHO]

json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
                           lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=8), c, max_size=3),
                           max_leaves=8)


def tool_calls(names: list[str]):  # type: ignore[no-untyped-def]
    raw_args = st.one_of(st.dictionaries(st.text(max_size=10), json_values, max_size=3), st.text(max_size=40))
    return st.builds(PolicyCall, st.sampled_from([*names, "bogus", ""]), raw_args)


replies = st.lists(st.builds(PolicyReply, st.text(max_size=20), st.lists(
    tool_calls(["run_tests", "check_canary", "deploy", "rollback", "add", "wait"]), max_size=3).map(tuple)), max_size=25)


def play(scenario, variant, seed, script):  # type: ignore[no-untyped-def]
    env = scenario.build(variant, seed)
    result = run_episode(env, PolicyCaller(Scripted(list(script)), env))
    return env, result


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(idx=st.integers(0, len(SCENARIOS) - 1), seed=st.integers(0, 2**31 - 1), script=replies, data=st.data())
def test_any_tool_calls_never_raise_out_of_an_environment(idx, seed, script, data) -> None:  # type: ignore[no-untyped-def]
    scenario = SCENARIOS[idx]
    variant = data.draw(st.sampled_from(scenario.variants))
    env, result = play(scenario, variant, seed, script)
    assert (result.score is not None and env.done) or result.termination.value != "done"
    json.dumps(env.snapshots)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), script=replies, data=st.data())
def test_same_seed_same_actions_give_byte_identical_trajectories(seed, script, data) -> None:  # type: ignore[no-untyped-def]
    scenario = SCENARIOS[0]
    variant = data.draw(st.sampled_from(scenario.variants))
    _, a = play(scenario, variant, seed, script)
    _, b = play(scenario, variant, seed, script)
    assert json.dumps(a.messages) == json.dumps(b.messages)
    assert json.dumps(a.snapshots) == json.dumps(b.snapshots)
    assert a.score == b.score
