"""Null agents: reference policies every scenario gets for free, to falsify its scorers.

A scorer that a blind agent can pass measures nothing. These four never read the world's
state, only what a model would see (the offered tools and the messages):

* `policy/random`     - a random offered tool with arguments drawn from its JSON schema;
                        strings are made of words of the last message. Seeded by the
                        episode (its seed and the length of the conversation), so a run
                        replays exactly and a branch continues the same stream.
* `policy/roundrobin` - each offered tool in turn (sorted by name), minimal valid arguments.
* `policy/stall`      - answers in text (claiming progress), never calls a tool.
* `policy/repeat`     - the same read-only call forever (a tool whose name reads, e.g.
                        check_*, view_*, list_*; minimal arguments).

They are stateless: every reply is a function of the environment's seed, its tool schemas
and the messages, so a fresh instance picks up any conversation where another left off.
"""

from __future__ import annotations

import random
import re
from typing import TYPE_CHECKING, Any, Callable

from .policies import Policy, PolicyCall, PolicyReply
from .seeds import rng

if TYPE_CHECKING:
    from .environment import Environment, Message

READ_VERBS = ("check", "view", "review", "list", "read", "show", "get", "retrieve", "status", "inspect", "look")
FALLBACK_WORDS = ("status", "help", "list", "show", "ok", "report", "1", "done")
_STRIP = "\"'`.,;:!?()[]{}<>"
_NUMBER = re.compile(r"-?\d[\d,]*(?:\.\d+)?")


def _text(message: Message) -> str:
    content = message.get("content")
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # content parts
        return " ".join(str(p.get("text", "")) for p in content if isinstance(p, dict))
    return ""


def last_words(messages: list[Message]) -> list[str]:
    """The words of the last message with any text (punctuation around words stripped)."""
    for message in reversed(messages):
        words = [w.strip(_STRIP) for w in _text(message).split()]
        words = [w for w in words if w]
        if words:
            return words
    return list(FALLBACK_WORDS)


def _numbers(words: list[str]) -> list[float]:
    out = []
    for w in words:
        m = _NUMBER.fullmatch(w.lstrip("$"))
        if m:
            try:
                out.append(float(m.group().replace(",", "")))
            except ValueError:
                continue
    return out


def _tools(env: Environment) -> list[dict[str, Any]]:
    return sorted((s["function"] for s in env.tool_schemas()), key=lambda f: f["name"])


class _Draw:
    """Schema-valid values for one call: random, or the minimal valid one."""

    def __init__(self, r: random.Random | None, words: list[str]) -> None:
        self.r, self.words = r, words
        self.numbers = _numbers(words)

    def value(self, schema: dict[str, Any]) -> Any:
        if "enum" in schema:
            values = list(schema["enum"])
            return self.r.choice(values) if self.r else values[0]
        kind = schema.get("type")
        if kind == "array":
            if self.r is None:
                return []
            return [self.value(schema.get("items", {"type": "string"})) for _ in range(self.r.randint(0, 3))]
        if kind == "boolean":
            return self.r.random() < 0.5 if self.r else False
        if kind == "integer":
            return int(self._number()) if self.r else 1
        if kind == "number":
            return float(self._number()) if self.r else 1.0
        return self._string() if self.r else ""

    def _number(self) -> float:
        r = self.r
        assert r is not None
        pick = r.random()
        if self.numbers and pick < 0.4:
            return r.choice(self.numbers)
        if pick < 0.6:
            return r.randint(0, 10)
        if pick < 0.9:
            return r.randint(1, 10 ** r.randint(2, 7))
        return -r.randint(1, 1000)

    def _string(self) -> str:
        r = self.r
        assert r is not None
        return " ".join(r.choice(self.words) for _ in range(r.randint(1, 4)))

    def arguments(self, function: dict[str, Any]) -> dict[str, Any]:
        params = function.get("parameters") or {}
        props: dict[str, Any] = params.get("properties") or {}
        required = set(params.get("required") or ())
        chosen = [n for n in props if n in required or (self.r is not None and self.r.random() < 0.5)]
        return {name: self.value(props[name]) for name in chosen}


class RandomAgent:
    """A random offered tool with random schema-valid arguments (words of the last message)."""

    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        tools = _tools(env)
        if not tools:
            return PolicyReply(text="There is nothing I can call.")
        r = rng(env.seed, "policy/random", len(messages))
        function = r.choice(tools)
        args = _Draw(r, last_words(messages)).arguments(function)
        return PolicyReply(text=f"Calling {function['name']}.", calls=(PolicyCall(function["name"], args),))


class RoundRobin:
    """Each offered tool in turn (sorted by name), with minimal valid arguments."""

    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        tools = _tools(env)
        if not tools:
            return PolicyReply(text="There is nothing I can call.")
        turn = sum(1 for m in messages if m.get("role") == "assistant")
        function = tools[turn % len(tools)]
        args = _Draw(None, []).arguments(function)
        return PolicyReply(text=f"Calling {function['name']}.", calls=(PolicyCall(function["name"], args),))


class Stall:
    """Answers in text, claiming progress; never calls a tool. Words must not score."""

    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        return PolicyReply(text="I have handled everything as required; the task is complete and within policy.")


def read_only_tool(tools: list[dict[str, Any]]) -> dict[str, Any]:
    """The tool a cautious do-nothing agent would repeat: one whose name reads (check_*,
    view_*, list_*...), preferring ones without required arguments; else the first tool."""

    def reads(f: dict[str, Any]) -> bool:
        return any(part in READ_VERBS for part in re.split(r"[_\W]+", f["name"].lower()))

    def no_required(f: dict[str, Any]) -> bool:
        return not (f.get("parameters") or {}).get("required")

    for test in (lambda f: reads(f) and no_required(f), reads, no_required):
        found = [f for f in tools if test(f)]
        if found:
            return found[0]
    return tools[0]


class Repeat:
    """The same read-only call, forever."""

    def __call__(self, env: Environment, messages: list[Message]) -> PolicyReply:
        tools = _tools(env)
        if not tools:
            return PolicyReply(text="There is nothing I can call.")
        function = read_only_tool(tools)
        args = _Draw(None, []).arguments(function)
        return PolicyReply(text=f"Calling {function['name']} again.", calls=(PolicyCall(function["name"], args),))


NULL_POLICIES: dict[str, Callable[[], Policy]] = {"random": RandomAgent, "roundrobin": RoundRobin, "stall": Stall,
                                                 "repeat": Repeat}
