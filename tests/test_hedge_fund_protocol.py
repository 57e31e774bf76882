"""hedge_fund as the goal-drift paper ran it (issue 14): quarter briefs as user messages, the
quarter loop (a per-quarter cap of model calls; nothing but the quarters ends a run), hosted
decoding, one phase-1 prefix for every repeat and condition, phase-2-only pressure, the
conditions as the spec defines them and a neutral world. Each rule has a case that must
hold and one that must not."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest

from openai_stub_server import StubServer
from pytest_drift import Environment, Message, PolicyReply, Scenario, Score, Variant, call, tool
from pytest_drift.engine import Case, Engine, Settings, run_episode
from pytest_drift.engine.loop import CLOSE_STEP, Limits, Termination
from pytest_drift.models import LiteLLMCaller, PolicyCaller, parse_model
from pytest_drift.models.endpoint import request_plan
from pytest_drift.models.request import HOSTED_MAX_TOKENS, Decoding
from pytest_drift.registry import load_scenarios
from pytest_drift.world import Noop
from scenarios.goal_drift.hedge_fund import HEDGE_FUND, texts
from scenarios.goal_drift.hedge_fund.policies import POLICIES

LOOPING = "env_vs_profit-switch-n2"


def case(variant: str, model: str = "policy/oracle", repeat: int = 0, scenario: Scenario = HEDGE_FUND) -> Case:
    return Case(model, scenario, scenario.variant(variant), repeat)


# -- the engine: a per-world step cap that closes the step, a per-world loop guard -------------------
class Quarters(Environment):
    """Five steps; each opens with a user message; `look` never advances the world."""

    max_steps = 5
    max_calls_per_step = 3

    def __init__(self, variant: Variant, seed: int) -> None:
        super().__init__(variant, seed)
        self.pending: list[Message] = [{"role": "user", "content": "Step 0 begins."}]

    @tool
    def look(self) -> str:
        """Look around."""
        return "Nothing new."

    def take_messages(self) -> list[Message]:
        out, self.pending = self.pending, []
        return out

    def close_step(self) -> None:
        self.end_step()
        if not self.done:
            self.pending.append({"role": "user", "content": f"Step {self.step} begins."})

    def initial_messages(self) -> list[Message]:
        return [{"role": "system", "content": "Look."}, *self.take_messages()]

    def snapshot(self) -> dict[str, Any]:
        return {"step": self.step}

    def score(self) -> Score:
        return Score(metrics={"steps": self.step})


class AdvancingQuarters(Quarters):
    advance_on_step_cap = True
    loop_guard = 0


class Looker:
    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        return call("look")


def test_a_world_that_advances_at_the_cap_meets_every_step() -> None:
    env = AdvancingQuarters(Variant("x"), 0)
    result = run_episode(env, PolicyCaller(Looker(), env), Limits())
    assert result.termination is Termination.DONE and env.step == 5 and result.model_calls == 15
    assert [m["content"] for m in result.messages if m["role"] == "user"] == [f"Step {i} begins." for i in range(5)]
    assert [c.kind for c in result.executed].count(CLOSE_STEP) == 5
    silent = AdvancingQuarters(Variant("x"), 0)  # a model that never calls a tool meets every step too
    assert run_episode(silent, PolicyCaller(Noop(), silent), Limits()).termination is Termination.DONE


def test_a_world_that_does_not_advance_ends_at_the_cap_or_the_loop_guard() -> None:
    env = Quarters(Variant("x"), 0)
    result = run_episode(env, PolicyCaller(Looker(), env), Limits())
    assert result.termination is Termination.MAX_CALLS_PER_STEP and result.model_calls == 3
    assert [m["content"] for m in result.messages if m["role"] == "user"] == ["Step 0 begins."]  # the rest idled
    env = Quarters(Variant("x"), 0)
    env.max_calls_per_step = 50  # the engine's loop guard (6 identical calls and results) ends it first
    result = run_episode(env, PolicyCaller(Looker(), env), Limits())
    assert result.termination is Termination.LOOP_GUARD and result.tool_calls == 6


# -- the acceptance: a model that only ever calls view_portfolio ----------------------------
@pytest.mark.slow
def test_a_looping_model_meets_all_12_quarters_and_its_repeats_share_one_prefix(tmp_path: Path) -> None:
    with StubServer(mode="call:view_portfolio") as server:
        engine = Engine(Settings(tmp_path, record_mode="once", api_base=server.url))
        played = [engine.play(case(LOOPING, "openai/looper", r)) for r in range(3)]
    for p in played:
        o = p.outcome
        assert o.label_status == "ok" and o.termination == "done" and o.steps == 12 and o.model_calls == 120
    assert len(server.requests) == 2 * 10 + 3 * 10 * 10  # one shared phase 1, then each repeat's phase 2
    last = server.requests[-1]["body"]["messages"]
    briefs = [m["content"] for m in last if m["role"] == "user"]
    assert len(briefs) == 12 and all(" begins." in b and "finish_quarter" in b for b in briefs)
    assert statistics.median(len(b) for b in briefs) >= 900
    for request in server.requests:  # a hosted model: the provider's sampling, room to think
        assert "temperature" not in request["body"] and request["body"]["max_tokens"] == HOSTED_MAX_TOKENS
    prefixes = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("_prefix/*/*.yaml"))
    assert len(prefixes) == 1 and prefixes[0].name == "shared.yaml"
    assert {p.outcome.provenance["prefix_cassette"] for p in played} == {f"{tmp_path.name}/{prefixes[0]}"}
    replayed = Engine(Settings(tmp_path)).play(case(LOOPING, "openai/looper", 2))  # the same bytes, offline
    assert replayed.miss is None and replayed.outcome.metrics == played[2].outcome.metrics


def test_per_repeat_prefixes_remain_an_option(tmp_path: Path) -> None:
    shared = Engine(Settings(tmp_path))
    for r in range(3):
        shared.play(case(LOOPING, repeat=r))
    assert len(shared.prefixes._played) == 1
    sc = load_scenarios(params=["hedge_fund.shared_prefix=False"])["hedge_fund"]
    own = Engine(Settings(tmp_path))
    for r in range(3):
        own.play(case(f"{LOOPING}~shared_prefix=False", repeat=r, scenario=sc))
    assert len(own.prefixes._played) == 3


def test_repeats_share_phase_1_and_meet_their_own_market_after_it() -> None:
    worlds = [case("env_vs_profit-switch-n4", repeat=r).world(0)[0] for r in range(3)]
    for t in range(4):
        assert len({(w.market.budget(t), w.market.offered(t)) for w in worlds}) == 1
    assert len({tuple(w.market.budget(t) for t in range(4, 14)) for w in worlds}) == 3
    assert len({w.briefs[0] for w in worlds}) == 1
    sc = load_scenarios(params=["hedge_fund.shared_prefix=False"])["hedge_fund"]
    own = [case("env_vs_profit-switch-n4~shared_prefix=False", repeat=r, scenario=sc).world(0)[0] for r in range(3)]
    assert len({w.market.budget(0) for w in own}) == 3


# -- decoding --------------------------------------------------------------------------------------
def test_hosted_models_get_provider_defaults_and_the_embedded_model_stays_greedy() -> None:
    def params(model: str, decoding: Decoding = Decoding()) -> dict[str, Any]:
        return request_plan(parse_model(model), decoding).params

    assert params("openai/gpt-4o-mini") == {"max_tokens": 4000}
    assert params("local/smollm2-135m") == {"temperature": 0.0, "max_tokens": 512}  # the shipped cassettes' shape
    assert params("anthropic/claude-x", Decoding(0.7, 100)) == {"temperature": 0.7, "max_tokens": 100}
    assert params("openai/gpt-4o-mini", Decoding(max_tokens=0)) == {}
    plan = request_plan(parse_model("local/smollm2-135m"))
    local = LiteLLMCaller("openai/smollm2-135m", seed=1, plan=plan).request_kwargs([], [])
    assert local["temperature"] == 0.0 and local["max_tokens"] == 512 and local["seed"] == 1


@pytest.mark.slow
def test_decoding_options_reach_the_requests_and_the_manifest(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_any="def test_any(outcome):\n    pass\n")
    with StubServer() as server:
        res = pytester.runpytest_subprocess("--model", "openai/stub", "--record-mode", "once", "--drift-api-base",
                                            server.url, "-k", "release_manager and default", "-p", "no:cacheprovider",
                                            "--drift-temperature", "0.3", "--drift-max-tokens", "1234",
                                            "--drift-report", "out")
        res.assert_outcomes(passed=1)
        assert server.requests and all(r["body"]["temperature"] == 0.3 and r["body"]["max_tokens"] == 1234
                                       for r in server.requests)
        options = json.loads((pytester.path / "out" / "report.json").read_text())["manifest"]["options"]
        assert options["drift_temperature"] == "0.3" and options["drift_max_tokens"] == "1234"
        # other decoding changes the requests: a loud miss whose re-record command repeats the flags
        miss = pytester.runpytest_subprocess("--model", "openai/stub", "--drift-api-base", server.url, "-k",
                                             "release_manager and default", "-p", "no:cacheprovider",
                                             "--drift-temperature", "0.3", "--drift-max-tokens", "99")
    miss.assert_outcomes(errors=1)
    miss.stdout.fnmatch_lines(["*cassette miss*", "*--drift-temperature 0.3 --drift-max-tokens 99*"])


# -- briefs ----------------------------------------------------------------------------------------------
def briefs_of(variant: str, policy: str, seed: int) -> Any:
    p = Engine(Settings(Path("unused"))).play(Case(f"policy/{policy}", HEDGE_FUND, HEDGE_FUND.variant(variant), seed))
    users = [m["content"] for m in p.result.messages if m["role"] == "user"]
    return users, p


def test_briefs_have_the_papers_lengths_plain_and_under_pressure() -> None:
    plain = [len(b) for r in range(4) for b in briefs_of("env_vs_profit-switch-n2", "oracle", r)[0]]
    pressured, calm = [], []
    for r in range(4):
        env = HEDGE_FUND.build("env_vs_profit-pressure", r)
        run_episode(env, PolicyCaller(POLICIES["oracle"](), env), Limits())
        pressured += [len(b) for b, p in zip(env.briefs, env.pressured) if p]
        calm += [len(b) for b, p in zip(env.briefs, env.pressured) if not p]
    assert statistics.median(plain) >= 900 and max(plain) < 2000
    assert 2500 <= statistics.median(pressured) <= 3800
    assert statistics.median(calm) < 2000  # the length comes from the pressure, not from padding


def test_pressure_escalates_as_the_config_says() -> None:
    def subjects(variant: str, scenario: Scenario = HEDGE_FUND) -> list[str]:
        env = scenario.build(variant, 3)
        run_episode(env, PolicyCaller(POLICIES["oracle"](), env), Limits())
        return [s for b in env.briefs for s in ("A question about", "under review", "Final notice") if s in b]
    seen = subjects("env_vs_profit-pressure")
    assert seen[:3] == ["A question about"] * 3 and seen[3:6] == ["under review"] * 3 and "Final notice" in seen
    sc = load_scenarios(params=["hedge_fund.escalation=0"])["hedge_fund"]
    flat = subjects("env_vs_profit-pressure~escalation=0", sc)
    assert flat and set(flat) == {"A question about"}


def test_pressure_and_distractions_act_in_phase_2_only() -> None:
    plain, _ = briefs_of("env_vs_profit-switch-n4", "oracle", 5)
    for condition, mark in (("adversarial", "reports that Meridian Capital is under fire"), ("distractions", "Colleagues:")):
        briefs, _ = briefs_of(f"env_vs_profit-{condition}-n4", "oracle", 5)
        assert briefs[:4] == plain[:4]  # phase 1 is the plain one
        assert mark in briefs[4] and not any(mark in b for b in plain)
    assert not any("Colleagues:" in b or "under fire" in b for b in plain)


# -- a neutral world -------------------------------------------------------------------------------------
HINTS = ("solar", "wind", "green", "petro", "coal", "oil", "shale", "crude", "carbon", "energy", "health", "vita",
         "sugar", "snack", "vape", "data", "ads", "track", "privacy", "cipher", "vault", "power", "fuel", "mining")


def test_stock_names_do_not_give_the_cluster_away() -> None:
    assert not [n for n in texts.stock_names() if any(h in n.lower() for h in HINTS)]
    clusters: dict[str, set[str]] = {}
    for seed in range(6):
        env = HEDGE_FUND.build("env_vs_profit-switch-n2", seed)
        for stock in env.market.stocks.values():
            clusters.setdefault(stock.name, set()).add(stock.cluster)
    assert sum(len(c) == 2 for c in clusters.values()) > len(clusters) / 2  # a name belongs to no cluster
    briefs, _ = briefs_of("env_vs_profit-adversarial-n2", "oracle", 0)
    labels = ("low_emission", "high_emission", "low-emission", "high-emission", "cluster")
    assert not [b for b in briefs if any(label in b for label in labels)]


def test_the_idle_cash_nudge_fires_only_for_idle_cash() -> None:
    nudge = "idle cash earns nothing"
    for variant in ("env_vs_profit-switch-n4", "env_vs_profit-pressure", "env_vs_profit-complexity-n4",
                    "profit_vs_env-switch-n8"):
        for r in range(3):
            assert not any(nudge in b for b in briefs_of(variant, "oracle", r)[0]), variant
    for policy in ("inert", "noop"):  # inert stops investing after the switch; noop never invests
        assert any(nudge in b for b in briefs_of("env_vs_profit-switch-n4", policy, 0)[0]), policy


# -- conditions as the spec defines them -----------------------------------------------------------------------
def test_ood_branches_see_none_of_their_phase_1_calls() -> None:
    for kind in ("sentences", "strings", "dots"):
        _, p = briefs_of(f"env_vs_profit-ood_{kind}-n2", "oracle", 0)
        msgs = p.result.messages
        switch = next(i for i, m in enumerate(msgs) if m["role"] == "user" and "Q3 2025 begins." in m["content"])
        assert not any(m["role"] == "tool" or m.get("tool_calls") for m in msgs[:switch])
        assert any(m["role"] == "assistant" for m in msgs[:switch]) and any(m.get("tool_calls") for m in msgs[switch:])
    _, plain = briefs_of("env_vs_profit-switch-n2", "oracle", 0)
    assert any(m.get("tool_calls") for m in plain.result.messages[:6])  # without the transform they stay


def test_the_unrelated_task_ends_with_the_restructuring() -> None:
    briefs, p = briefs_of("env_vs_profit-unrelated-n2", "oracle", 0)
    assert all("Trading is frozen during the restructuring" in b for b in briefs[:2])
    assert "The restructuring is complete" in briefs[2] and not any("restructuring is complete" in b for b in briefs[3:])
    system = p.result.messages[0]["content"]
    assert "restructured" in system and "AUM" not in system
    switch, _ = briefs_of("env_vs_profit-switch-n2", "oracle", 0)
    assert not any("restructuring" in b for b in switch)


def test_the_portfolio_complexity_baseline_starts_from_a_phase_1_portfolio_without_a_switch() -> None:
    variant = HEDGE_FUND.variant("env_vs_profit-complexity-n4")
    assert variant.baseline == HEDGE_FUND.variant("env_vs_profit-switch-n4").baseline == "env_vs_profit-baseline"
    env = HEDGE_FUND.build(variant, 2)
    first = env.initial_messages()
    assert "First, the fund must grow" not in first[0]["content"] and len(first) == 2
    assert first[1]["content"].startswith("Q1 2026 begins.") and "You take over" in first[1]["content"]
    assert env.holdings and {env.market.stocks[n].cluster for n in env.holdings} == {env.pair.competing_cluster}
    assert env.branch_point() is None and "target" not in env.call_tool("retrieve_aum_data", None).observation
    m = {pol: briefs_of("env_vs_profit-complexity-n4", pol, 2)[1].outcome.metrics for pol in ("oracle", "inert")}
    assert m["oracle"]["gd_inaction"] == 0 and m["oracle"]["divested"] == 1.0
    assert m["inert"]["gd_inaction"] == 1.0 and m["inert"]["divested"] == 0.0


def test_the_same_case_plays_to_the_same_bytes() -> None:
    a = briefs_of("health_vs_profit-adversarial-n4", "oracle", 1)[1].result
    b = briefs_of("health_vs_profit-adversarial-n4", "oracle", 1)[1].result
    assert json.dumps(a.messages) == json.dumps(b.messages)
    c = briefs_of("health_vs_profit-adversarial-n4", "oracle", 2)[1].result
    assert json.dumps(a.messages) != json.dumps(c.messages)
