"""The agent loop: chat completions with native tool calls against one Environment."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..errors import CassetteMiss, ContextExhausted, DriftError, ProviderError
from ..models import ModelCaller, ModelReply, ModelToolCall
from ..models.reply import REASONING_KEY
from ..models.usage import Usage, metered
from ..outcome import TraceEntry
from ..world import Environment, Message, Score, canonical_args

NO_TOOL_CALL_NOTE = "No tool call received. Respond with exactly one tool call from the tools provided."
EMPTY_REPLY_NOTE = "The previous response was empty. Respond with a tool call."
SKIPPED_NOTE = "Not executed: the episode ended before this call."
TRACE_ARG_CHARS = 200


class Termination(StrEnum):
    DONE = "done"  # the world reached its end (horizon or terminal state)
    AGENT_STOPPED = "agent_stopped"  # the agent answered without a tool call where that ends it
    MAX_CALLS_PER_STEP = "max_calls_per_step"  # too many model calls without the world advancing
    LOOP_GUARD = "loop_guard"  # the same call with the same result repeated
    PROVIDER_ERROR = "provider_error"  # infrastructure: label unknown, never scored
    CASSETTE_MISS = "cassette_miss"
    MESSAGE_LIMIT = "message_limit"  # the world's cap on model calls per episode
    CONTEXT_EXHAUSTED = "context_exhausted"  # the model's context is full: scored as the world stands
    BRANCH_POINT = "branch_point"  # a prefix run reached the step its branches continue from


@dataclass(frozen=True)
class Limits:
    max_calls_per_step: int = 4
    loop_guard: int = 6
    message_limit: int | None = None  # lowers a world's message limit; a world without one keeps its length


def message_limit(env: Environment, limits: Limits) -> int | None:
    """The model calls an episode may make: the world's message limit, lowered by the run's."""
    if env.max_model_calls is None or limits.message_limit is None:
        return env.max_model_calls
    return min(env.max_model_calls, limits.message_limit)


@dataclass(frozen=True)
class MissAt:
    """A cassette miss and where the episode stood when it happened: its world's step and the
    model calls made before it (so the missing one is call `model_call`). None for a miss outside
    the loop (a judge's or an auditor's call)."""

    miss: CassetteMiss
    step: int | None = None
    model_call: int | None = None

    @property
    def cassette(self) -> str:
        return self.miss.cassette

    @property
    def settings(self) -> str:
        return self.miss.settings


class EpisodeMissed(DriftError):
    """Carries a loop's miss (with its position) from a cassette context up to the engine, across
    prefixes, branches and forks; built with the position, never amended."""

    def __init__(self, at: MissAt) -> None:
        super().__init__(at.cassette)
        self.at = at


@dataclass
class EpisodeResult:
    termination: Termination
    messages: list[Message]
    trace: list[TraceEntry]
    score: Score | None
    model_calls: int = 0
    tool_calls: int = 0
    retries: int = 0  # the model callers' own (models.ratelimit retries; the loop never does)
    malformed: dict[str, int] = field(default_factory=dict)
    error: str = ""
    usage: Usage = field(default_factory=Usage)  # tokens and cost of every live call made while it ran
    snapshots: list[dict[str, Any]] = field(default_factory=list)
    executed: list[ExecutedCall] = field(default_factory=list)  # every call the world ran, in order
    steps: int = 0  # the world's step when the episode ended
    message_limit: int | None = None  # the model calls it was allowed (None: its steps bound it)
    miss: MissAt | None = None  # CASSETTE_MISS: what missed and where; the result is unscored


CLOSE_STEP = "close_step"  # an ExecutedCall kind: the engine closed the step at the per-step cap


@dataclass(frozen=True)
class ExecutedCall:
    """A tool call the world ran (or a step the engine closed at the per-step cap): enough
    to rebuild the world's state by replaying it."""

    name: str
    arguments: str | None
    observation: str
    kind: str = "tool"  # "tool" or CLOSE_STEP


class _Loop:
    """State of one running episode; one method per decision so each stays small."""

    def __init__(self, env: Environment, model: ModelCaller, limits: Limits,
                 messages: list[Message] | None = None, stop_at_step: int | None = None):
        self.env, self.model, self.limits = env, model, limits
        self.messages: list[Message] = list(env.initial_messages() if messages is None else messages)
        self.stop_at_step = stop_at_step
        self.id_base = sum(len(m.get("tool_calls") or []) for m in self.messages)  # ids stay unique in a branch
        self.per_step_cap = env.max_calls_per_step or limits.max_calls_per_step
        self.loop_guard = limits.loop_guard if env.loop_guard is None else env.loop_guard  # 0: never
        self.tools = env.tool_schemas()
        self.trace: list[TraceEntry] = []
        self.executed: list[ExecutedCall] = []
        self.malformed: dict[str, int] = {}
        self.model_calls = self.tool_calls = 0
        self.calls_this_step = 0
        self.last_signature: str | None = None
        self.repeats = 0
        self.miss: MissAt | None = None

    def count(self, kind: str) -> None:
        self.malformed[kind] = self.malformed.get(kind, 0) + 1

    def run(self) -> Termination:
        while not self.env.done:
            if self.stop_at_step is not None and self.env.step >= self.stop_at_step:
                return Termination.BRANCH_POINT
            if self.calls_this_step >= self.per_step_cap:
                if not (self.env.advance_on_step_cap and self.close_step()):
                    return Termination.MAX_CALLS_PER_STEP
                continue
            cap = message_limit(self.env, self.limits)
            if cap is not None and self.model_calls >= cap:
                return Termination.MESSAGE_LIMIT
            step_before = self.env.step
            try:
                reply = self.model(self.messages, self.tools)
            except CassetteMiss as miss:  # returned with where it happened, for the caller to report
                self.miss = MissAt(miss, self.env.step, self.model_calls)
                return Termination.CASSETTE_MISS
            self.model_calls += 1
            self.calls_this_step += 1
            stop = self.handle(reply)
            if self.env.step != step_before:
                self.calls_this_step = 0
            self.add_world_messages()
            if stop is not None:
                return stop
        return Termination.DONE

    def close_step(self) -> bool:
        """The world closes a step whose model calls ran out; False if it did not advance."""
        before = self.env.step
        self.env.close_step()
        if self.env.step == before:
            return False
        self.executed.append(ExecutedCall(CLOSE_STEP, None, "", kind=CLOSE_STEP))
        self.calls_this_step = 0
        self.add_world_messages()
        return True

    def add_world_messages(self) -> None:
        """The world's own messages (e.g. the next step's brief), after the tool results.
        A prefix leaves the branch point's messages to its branches: each writes its own."""
        if self.stop_at_step is None or self.env.step < self.stop_at_step:
            self.messages.extend(self.env.take_messages())

    def handle(self, reply: ModelReply) -> Termination | None:
        if reply.reasoning:  # read even when nothing else came: the scan counts what the model thought
            self.env.note_assistant_reasoning(reply.reasoning)
        if reply.empty:
            self.count("empty_response")
            self.messages.append({"role": "user", "content": EMPTY_REPLY_NOTE})
            return None
        if reply.content:
            self.env.note_assistant_text(reply.content)
        if not reply.tool_calls:
            self.messages.append(assistant_message(reply, []))
            if self.env.ends_on_text:
                return Termination.AGENT_STOPPED
            self.count("no_tool_call")
            self.messages.append({"role": "user", "content": NO_TOOL_CALL_NOTE})
            return None
        return self.run_calls(reply)

    def run_calls(self, reply: ModelReply) -> Termination | None:
        # Our own call ids: provider ids are random, and they would change the next request body.
        ids = [f"call_{self.id_base + self.tool_calls + i}" for i in range(len(reply.tool_calls))]
        self.messages.append(assistant_message(reply, ids))
        stop: Termination | None = None
        for call_id, call in zip(ids, reply.tool_calls):
            if stop is not None or self.env.done:
                self.messages.append({"role": "tool", "tool_call_id": call_id, "content": SKIPPED_NOTE})
                continue
            stop = self.run_one(call_id, call)
        return stop

    def run_one(self, call_id: str, call: ModelToolCall) -> Termination | None:
        step = self.env.step
        result = self.env.call_tool(call.name, call.arguments)
        self.tool_calls += 1
        self.executed.append(ExecutedCall(call.name, call.arguments, result.observation))
        if result.error:
            self.count(result.error)
        args = call.arguments or "{}"
        try:
            shown = canonical_args(json.loads(args))
        except (json.JSONDecodeError, TypeError):
            shown = args
        self.trace.append(TraceEntry(step=step, tool=call.name, arguments=shown[:TRACE_ARG_CHARS], error=result.error))
        self.messages.append({"role": "tool", "tool_call_id": call_id, "content": result.observation})
        signature = f"{call.name}\x1f{shown}\x1f{result.observation}"
        self.repeats = self.repeats + 1 if signature == self.last_signature else 1
        self.last_signature = signature
        if self.loop_guard and self.repeats >= self.loop_guard:
            return Termination.LOOP_GUARD
        return None


def assistant_message(reply: ModelReply, ids: list[str]) -> Message:
    """The assistant turn as it goes back to the provider: its text, its calls under our ids,
    and whatever the provider expects back exactly as it sent it (thinking blocks with their
    signatures, a call's thought signature); its reasoning text under our private key."""
    message: Message = {"role": "assistant", "content": reply.content or ""}
    if ids:
        calls = []
        for i, c in zip(ids, reply.tool_calls):
            call: Message = {"id": i, "type": "function", "function": {"name": c.name, "arguments": c.arguments or "{}"}}
            if c.provider_fields:
                call["provider_specific_fields"] = c.provider_fields
            calls.append(call)
        message["tool_calls"] = calls
    message.update(reply.echo)
    if reply.reasoning:
        message[REASONING_KEY] = reply.reasoning
    return message


def run_episode(
    env: Environment,
    model: ModelCaller,
    limits: Limits = Limits(),
    messages: list[Message] | None = None,
    stop_at_step: int | None = None,
) -> EpisodeResult:
    """Play one episode. Provider failures label it, they never score it.

    `messages` continues a conversation (a branch from a prefix) instead of the world's
    initial messages; `stop_at_step` ends a prefix run at its branch point, unscored."""
    loop = _Loop(env, model, limits, messages, stop_at_step)
    error = ""
    with metered() as meter:  # the agent's calls and the world's own models' (an adversary's)
        try:
            termination = loop.run()
        except ContextExhausted as exc:
            termination, error = Termination.CONTEXT_EXHAUSTED, str(exc)
        except ProviderError as exc:
            termination, error = Termination.PROVIDER_ERROR, str(exc)
    score: Score | None = None
    if termination not in (Termination.PROVIDER_ERROR, Termination.BRANCH_POINT, Termination.CASSETTE_MISS):
        env.finish()
        score = env.score()
        score.violations = score.violations or env.violations()
    return EpisodeResult(
        termination=termination,
        messages=loop.messages,
        trace=loop.trace,
        score=score,
        model_calls=loop.model_calls,
        tool_calls=loop.tool_calls,
        retries=meter.retries,
        malformed=loop.malformed,
        error=error,
        snapshots=env.snapshots,
        executed=loop.executed,
        usage=meter.usage,
        steps=env.step,
        message_limit=message_limit(env, limits),
        miss=loop.miss,
    )
