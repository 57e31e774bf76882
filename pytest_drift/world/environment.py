"""Environment: the world an agent acts in, one episode's state.

An Environment owns all state. Tools are methods marked with @tool; they never raise on
a model's bad input (the engine turns ToolArgumentError and unknown tools into error
observations). After every completed step the environment appends a JSON snapshot; every
state change goes to an append-only event ledger.
"""

from __future__ import annotations

import copy
import inspect
import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, ClassVar, Iterator, Literal, Mapping

from .basics import Message
from .rules import Rule, Violation
from .variant import Variant
from .tools import TOOL_ATTR, ToolArgumentError, ToolSpec, parse_arguments, spec_of

if TYPE_CHECKING:
    from .branch import BranchPoint

LabelStatus = Literal["ok", "unknown", "invalid"]


@dataclass(frozen=True)
class Event:
    step: int
    kind: str
    data: Mapping[str, Any]


class EventLedger:
    """Append-only record of what happened in the world."""

    def __init__(self) -> None:
        self._events: list[Event] = []

    def append(self, step: int, kind: str, **data: Any) -> None:
        self._events.append(Event(step, kind, MappingProxyType(copy.deepcopy(data))))

    def __iter__(self) -> Iterator[Event]:
        return iter(tuple(self._events))

    def __len__(self) -> int:
        return len(self._events)

    def of_kind(self, kind: str) -> list[Event]:
        return [e for e in self._events if e.kind == kind]

    def to_json(self) -> list[dict[str, Any]]:
        return [{"step": e.step, "kind": e.kind, **dict(e.data)} for e in self._events]


@dataclass
class Score:
    """What a scenario's scorers computed over the finished world."""

    metrics: dict[str, Any]
    series: dict[str, list[float]] = field(default_factory=dict)
    fields: dict[str, Any] = field(default_factory=dict)
    label_status: LabelStatus = "ok"
    label_reason: str = ""
    violations: list[Violation] = field(default_factory=list)  # hard rules broken (the world's ledger)


@dataclass(frozen=True)
class ToolResult:
    observation: str
    error: str | None = None  # malformed-output kind, e.g. "unknown_tool", "bad_arguments"


class Environment(ABC):
    """One episode's world. Subclasses add @tool methods, messages, snapshot and score."""

    max_steps: int = 20  # the world's own horizon; the engine never overrides it
    max_model_calls: int | None = None  # a message limit (malformed replies count too); None: steps bound it
    max_calls_per_step: int | None = None  # model calls allowed without the world advancing; None: the engine's Limits
    # What the per-step cap does: False ends the episode (max_calls_per_step); True has the
    # world close the step itself (`close_step`) and the episode goes on with the next one.
    advance_on_step_cap: bool = False
    loop_guard: int | None = None  # identical call+result repeats that end the episode; None: the engine's; 0: never
    # True: an assistant message without a tool call ends the episode (the agent is done).
    # False: it gets an error observation asking for a tool call, counted as malformed.
    ends_on_text: ClassVar[bool] = False
    # The rules the prompt states as absolute (world.rules): a breach fails the episode
    # whatever its mean; the world records it with `breach` where it happens.
    rules: ClassVar[tuple[Rule[Any], ...]] = ()

    def __init__(self, variant: Variant, seed: int) -> None:
        self.variant = variant
        self.seed = seed
        self.step = 0
        self.ledger = EventLedger()
        self.snapshots: list[dict[str, Any]] = []

    @classmethod
    def tool_specs(cls) -> dict[str, ToolSpec]:
        cached = cls.__dict__.get("_drift_specs")
        if cached is None:
            cached = {
                name: spec_of(getattr(cls, name))
                for name in dir(cls)
                if getattr(getattr(cls, name, None), TOOL_ATTR, False)
            }
            cls._drift_specs = cached  # type: ignore[attr-defined]  # a per-class cache, set on first use
        return cached

    @classmethod
    def definition_problems(cls) -> list[str]:
        """What is wrong with this class as the engine relies on it (empty when nothing)."""
        problems = []
        if not isinstance(inspect.getattr_static(cls, "done", None), property):
            problems.append("`done` must be a property (it is read as `env.done`, never called; a plain method "
                            "is always true and ends every episode at step 0)")
        try:
            schemas = [spec.schema() for spec in cls.tool_specs().values()]
        except Exception as exc:
            problems.append(f"a tool's JSON schema cannot be built: {exc}")
        else:
            if not schemas:
                problems.append("no tools: mark the agent's actions with @tool")
        return problems

    def tool_schemas(self) -> list[dict[str, Any]]:
        return [spec.schema() for _, spec in sorted(self.tool_specs().items())]

    @property
    def done(self) -> bool:
        return self.step >= self.max_steps

    def call_tool(self, name: str, raw_arguments: str | None) -> ToolResult:
        """Run one tool call from the model. Never raises on the model's input."""
        specs = self.tool_specs()
        if name not in specs:
            return ToolResult(f"Error: unknown tool {name!r}. Available tools: {', '.join(sorted(specs))}.", "unknown_tool")
        try:
            args = parse_arguments(specs[name], raw_arguments)
            return ToolResult(getattr(self, name)(**args))
        except ToolArgumentError as exc:  # from parsing, or from the tool's own checks
            return ToolResult(f"Error calling {name}: {exc}.", exc.kind)

    def record_snapshot(self) -> None:
        """The step's snapshot (end_step takes it); it must be JSON-serialisable."""
        snap = self.snapshot()
        json.dumps(snap)  # fail loudly in the scenario's own tests, not later in a report
        self.snapshots.append(snap)

    def end_step(self) -> None:
        """Close the current step: its snapshot, then the next step. Call it once a step, where
        the world's step ends (after the action that ends it, before the next step's brief)."""
        self.record_snapshot()
        self.step += 1

    @abstractmethod
    def initial_messages(self) -> list[Message]:
        """System and user messages the agent starts from."""

    @abstractmethod
    def snapshot(self) -> dict[str, Any]:
        """The world's state as JSON-able data."""

    def take_messages(self) -> list[Message]:
        """Messages the world adds to the conversation since it was last asked (e.g. the
        next step's brief as a user message); the engine appends them after the agent's
        calls ran. Default: none (everything the agent learns comes in tool results)."""
        return []

    def close_step(self) -> None:
        """Close the current step for an agent that used all its model calls in it
        (`advance_on_step_cap`); default: as an idle step."""
        self.idle_step()

    def breach(self, rule: str, call: str, detail: str = "", step: int | None = None) -> None:
        """Record that the agent broke one of this world's `rules` (at this step, or `step`)."""
        if rule not in {r.name for r in self.rules}:
            raise ValueError(f"{type(self).__name__} declares no rule {rule!r}; declared: {[r.name for r in self.rules]}")
        self.ledger.append(self.step if step is None else step, "violation", rule=rule, call=call, detail=detail)

    def violations(self) -> list[Violation]:
        """The breaches recorded so far, in order."""
        return [Violation(e.data["rule"], e.step, e.data["call"], e.data.get("detail", ""))
                for e in self.ledger.of_kind("violation")]

    def on_fork(self, message: str) -> None:
        """A fork continues this world at its current step with an intervention (`message`, also
        inserted in the conversation): change the world's state here if the intervention should
        (e.g. a new directive takes effect). Default: the world is left as it stands."""

    def note_assistant_text(self, text: str) -> None:
        """The agent's words (not its actions); scenarios that scan them override this."""

    def note_assistant_reasoning(self, text: str) -> None:
        """The agent's reasoning (thinking, reasoning summaries), which it does not show as
        text; scenarios that scan it override this (kept apart from `note_assistant_text`)."""

    def branch_point(self) -> BranchPoint | None:
        """Where this world's episodes part into branches sharing one prefix; None: no branching."""
        return None

    def world_models(self) -> tuple[str, ...]:
        """Models the world itself calls (e.g. an adversary agent); their traffic goes in the episode's cassette."""
        return ()

    def bind_models(self, make: Callable[[str], Callable[[list[Message]], str]]) -> None:
        """Receive a factory of text models for `world_models` (called before the episode)."""

    def idle_step(self) -> None:
        """Advance the world one step with no agent action (the agent stopped early)."""
        self.step = self.max_steps

    def finish(self) -> None:
        """Close the world after the episode; default: let remaining steps pass idle."""
        while not self.done:
            before = self.step
            self.idle_step()
            if self.step == before:
                break

    @abstractmethod
    def score(self) -> Score:
        """Deterministic scorers over the final state, the snapshots and the ledger."""


