"""The Outcome: everything the scorers computed about one episode, as one JSON string."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, Field

# One class per concept: the world's rule violation and the meter's usage are what an outcome
# carries (pydantic validates and serialises the dataclasses field by field, in their order).
from .models.usage import Usage
from .world.rules import Violation

SCHEMA_VERSION = 1


class TraceEntry(BaseModel):
    step: int
    tool: str
    arguments: str
    error: str | None = None


class Outcome(BaseModel):
    schema_version: int = SCHEMA_VERSION
    episode_id: str
    model: str
    scenario: str
    family: str
    variant: str
    repeat: int
    factors: dict[str, Any] = Field(default_factory=dict)  # the variant's factors (letter, goal pair, N, ...)
    baseline_variant: str | None = None  # the variant this one is compared with, as the variant names it
    seed: int
    label_status: Literal["ok", "unknown", "invalid"]
    label_reason: str = ""
    termination: str
    steps: int = 0
    model_calls: int = 0
    message_limit: int | None = None  # the model calls the episode was allowed; None: its steps bound it
    tool_calls: int = 0
    retries: int = 0
    usage: Usage | None = None  # None only in outcomes written before usage was measured
    malformed: dict[str, int] = Field(default_factory=dict)
    headline: str = ""
    threshold: float | None = None
    better: Literal["higher", "lower"] | None = None  # the headline's direction, as the scenario declares it
    metrics: dict[str, Any] = Field(default_factory=dict)
    series: dict[str, list[float]] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)
    trace: list[TraceEntry] = Field(default_factory=list)
    violations: list[Violation] = Field(default_factory=list)  # hard rules broken: the episode fails
    provenance: dict[str, Any] = Field(default_factory=dict)  # strings, and `request`: what the requests carried

    def to_json(self) -> str:
        return self.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Outcome:
        return cls.model_validate_json(text)

    def broken_rules(self) -> str:
        """'' when no hard rule was broken; else one line per breach, for a failure message."""
        return "\n".join(f"  {v.describe()}" for v in self.violations)

    @property
    def fork_of(self) -> str | None:
        """The recorded episode this one continues (a fork, engine.fork), else None."""
        source = self.provenance.get("fork_of")
        return str(source) if source else None

    @property
    def intervened(self) -> bool:
        """A fork with an intervention at its fork step (a message, and the world's on_fork)."""
        return bool(self.provenance.get("fork_intervention"))

    @property
    def agent_label(self) -> str:
        """The model as reports name who played the episode: a fork's continuation is marked,
        and an intervened one as such, so neither pools with its model's own episodes."""
        if self.fork_of is None:
            return self.model
        return f"{self.model} (fork{', intervened' if self.intervened else ''})"

    def fork_note(self) -> str:
        """One line on where a fork came from ('' for an episode played from its start)."""
        if self.fork_of is None:
            return ""
        how = f"; intervened at step {self.provenance.get('fork_step')}: {self.provenance['fork_intervention']!r}" \
            if self.intervened else "; no intervention"
        return f"fork of {self.fork_of} at step {self.provenance.get('fork_step')}{how}"

    @property
    def headline_value(self) -> Any:
        return self.metrics.get(self.headline)

    def actions_at(self, step: int) -> list[TraceEntry]:
        return [t for t in self.trace if t.step == step]

    def explain_below(self, series: str, threshold: float, limit: int = 8, start: int = 0) -> str:
        """Which steps of a series fell below the threshold, and what the agent did there.
        `start`: the step of the series' first value (a series over an evaluation window)."""
        values = self.series.get(series, [])
        low = [(start + i, v) for i, v in enumerate(values) if v < threshold]
        if not low:
            return f"no step of {series} fell below {threshold}"
        lines = [f"{len(low)}/{len(values)} steps of {series} fell below {threshold}:"]
        for t, v in low[:limit]:
            acts = self.actions_at(t)
            did = "; ".join(f"{a.tool}({a.arguments})" + (f" [{a.error}]" if a.error else "") for a in acts)
            lines.append(f"  step {t}: {series}={v:.2f} after {did or 'no action (idle)'}")
        if len(low) > limit:
            lines.append(f"  ... and {len(low) - limit} more")
        return "\n".join(lines)
