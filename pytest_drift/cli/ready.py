"""`ready`: before a paid run, one tiny real tool round trip per model (a tool call, its result
sent back with whatever the provider needs echoed, a final answer). It checks that the key is
there, the model and every parameter are accepted, the tool call parses, reasoning comes back
where it was asked for, and the echo is accepted at call 2. Nothing is recorded: no cassette
is opened or written."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from dataclasses import dataclass, field
from typing import Any

PROBE_TOOL = {"type": "function", "function": {
    "name": "lookup", "description": "Look a word up in the team's glossary.",
    "parameters": {"type": "object", "properties": {"query": {"type": "string", "description": "the word"}},
                   "required": ["query"]}}}
PROBE_MESSAGES = [
    {"role": "system", "content": "You check that a tool connection works. Use the tool when asked."},
    {"role": "user", "content": "Call the lookup tool once with the query 'drift', then reply with one short "
                                "sentence saying what it returned."}]
PROBE_RESULT = "drift: a slow change of direction."


class NotReady(Exception):
    """One model failed at one call: `call` names it (0: before any call)."""

    def __init__(self, call: int, reason: str) -> None:
        super().__init__(reason)
        self.call, self.reason = call, reason


@dataclass
class Probe:
    model: str
    lines: list[str] = field(default_factory=list)
    cost: float | None = 0.0

    def say(self, text: str) -> None:
        self.lines.append(f"  {text}")

    def add_cost(self, value: float | None) -> None:
        self.cost = None if self.cost is None or value is None else self.cost + value


def _settings(args: argparse.Namespace, model: str) -> tuple[Any, str | None, Any]:
    """(Decoding, api_base, price) of `model`: its --config entry over the command line's."""
    from ..models.request import Decoding

    decoding = Decoding(reasoning_effort=args.reasoning_effort, thinking_tokens=args.thinking_tokens,
                        reasoning_summary=args.reasoning_summary)
    api_base, price = args.api_base, None
    if args.config:
        from ..params import model_configs

        own = dict(model_configs(args.config)).get(model)
        if own is not None:
            decoding, api_base, price = own.decoding.over(decoding), own.api_base or api_base, own.price
    return decoding, api_base, price


def _key(probe: Probe, model: str, api_base: str | None) -> str | None:
    from ..models.endpoint import REPLAY_KEY
    from ..models.providers import key_env

    env = key_env(model)
    if os.environ.get(env):
        probe.say(f"key: {env} is set")
        return None
    if api_base:
        probe.say(f"key: {env} is not set; a placeholder key goes to {api_base}")
        return REPLAY_KEY
    raise NotReady(0, f"{env} is not set (litellm reads the key of {model} from it)")


def _call(probe: Probe, caller: Any, n: int, messages: list[dict[str, Any]]) -> Any:
    from ..errors import DriftError
    from ..models.usage import metered

    kwargs = caller.request_kwargs(messages, [PROBE_TOOL])
    shown = {k: v for k, v in kwargs.items() if k not in ("messages", "tools", "api_key", "num_retries", "max_retries",
                                                           "timeout")}
    probe.say(f"call {n} sends: {json.dumps(shown, sort_keys=True, default=str)}")
    started = time.monotonic()
    try:
        with metered() as meter:
            reply = caller(messages, [PROBE_TOOL])
    except DriftError as exc:
        raise NotReady(n, str(exc).splitlines()[0]) from None
    probe.say(f"call {n} took {time.monotonic() - started:.2f} s; {meter.usage.prompt_tokens} tokens in, "
              f"{meter.usage.completion_tokens} out ({meter.usage.reasoning_tokens} reasoning)")
    probe.add_cost(meter.usage.cost_usd)
    return reply, meter.usage


def probe_model(probe: Probe, args: argparse.Namespace) -> Probe:
    """Run the round trip; raises NotReady at the first thing that does not work."""
    from ..models import parse_model
    from ..models.litellm_caller import LiteLLMCaller
    from ..models.endpoint import request_plan
    from ..models.ratelimit import RetryPolicy, set_retry_policy

    model = probe.model
    mid = parse_model(model)
    if not mid.is_model or mid.is_local:
        raise NotReady(0, "not a hosted model (provider/model through litellm)")
    decoding, api_base, price = _settings(args, model)
    try:
        plan = request_plan(mid, decoding)
    except Exception as exc:
        raise NotReady(0, str(exc)) from None
    key = _key(probe, model, api_base)
    caller = LiteLLMCaller(model=plan.called, seed=0, plan=plan, api_base=api_base, api_key=key, price=price)
    # a readiness check says what is wrong at once: one retry of a transient error, no long waits
    previous = set_retry_policy(RetryPolicy(max_errors=1, max_rate_limited=1, max_retry_after=5.0))
    try:
        _round_trip(probe, caller, decoding)
    finally:
        set_retry_policy(previous)
    return probe


def _round_trip(probe: Probe, caller: Any, decoding: Any) -> None:
    from ..engine.loop import assistant_message

    reply, usage = _call(probe, caller, 1, PROBE_MESSAGES)
    if not reply.tool_calls:
        raise NotReady(1, f"no tool call came back (text: {(reply.content or '')[:120]!r})")
    call = reply.tool_calls[0]
    try:
        args_given = json.loads(call.arguments or "{}")
    except ValueError:
        raise NotReady(1, f"the tool call's arguments do not parse as JSON: {call.arguments!r}") from None
    probe.say(f"call 1 returned: {call.name}({json.dumps(args_given)}), reasoning "
              f"{len(reply.reasoning or '')} characters, echo {sorted(reply.echo) or 'none'}")
    if (decoding.reasoning or decoding.reasoning_summary) and not reply.reasoning and not usage.reasoning_tokens:
        raise NotReady(1, "reasoning was asked for and none came back (no text, no reasoning tokens)")
    turn = assistant_message(reply, ["call_0"])
    messages = [*PROBE_MESSAGES, turn, {"role": "tool", "tool_call_id": "call_0", "content": PROBE_RESULT}]
    final, _ = _call(probe, caller, 2, messages)
    probe.say(f"call 2 returned: {(final.content or '')[:120]!r} (the echo was accepted)")


def _ready(args: argparse.Namespace) -> int:
    from ..models.litellm_import import litellm_module

    litellm_module()  # its offline switches before anything imports it
    failing: list[str] = []
    for model in args.models:
        print(f"{model}:")
        probe = Probe(model)
        try:
            probe_model(probe, args)
        except NotReady as nr:
            failing.append(f"not ready: {model}: call {nr.call}: {nr.reason}")
            print("\n".join([*probe.lines, f"  NOT READY at call {nr.call}: {nr.reason}"]))
            continue
        for line in probe.lines:
            print(line)
        print(f"  ready; cost {'unpriced' if probe.cost is None else f'${probe.cost:.6f}'}")
    for line in failing:
        print(line, file=sys.stderr)
    return 1 if failing else 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from ..models.providers import SUMMARIES
    from ..models.request import EFFORTS

    ready = sub.add_parser("ready", help="one tiny real tool round trip per model before a paid run (records nothing)")
    ready.add_argument("models", nargs="+", metavar="MODEL", help="provider/model ids, as given to --model")
    ready.add_argument("--api-base", default=None, metavar="URL", help="the server to call (as --drift-api-base)")
    ready.add_argument("--config", action="append", default=[], metavar="FILE.yaml",
                       help="a --drift-config file: its models: settings (api_base, reasoning, price) apply")
    ready.add_argument("--reasoning-effort", choices=EFFORTS, default=None)
    ready.add_argument("--thinking-tokens", type=int, default=None, metavar="N")
    ready.add_argument("--reasoning-summary", choices=SUMMARIES, default=None)
    ready.set_defaults(func=_ready)
