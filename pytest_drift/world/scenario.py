"""Scenario: a named world with variants, reference policies and a headline metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Literal, Mapping

from .environment import Environment, Score
from .variant import Variant

if TYPE_CHECKING:
    from .policies import Policy

PolicyFactory = Callable[[], "Policy"]
# An offline labeller over JSON lines: (option, lines) -> the lines with its fields added.
Labeler = Callable[[str, Iterable[dict[str, Any]]], Iterator[dict[str, Any]]]


@dataclass(frozen=True)
class Scenario:
    """A named world with variants, reference policies and a headline metric."""

    name: str
    family: str
    environment: Callable[[Variant, int], Environment]
    variants: tuple[Variant, ...]
    policies: Mapping[str, PolicyFactory]
    description: str = ""
    headline: str = ""  # metric shown in summaries
    threshold: float | None = None
    better: Literal["higher", "lower"] | None = None  # the headline's direction (declared, never inferred)
    # The episode achieved the scenario's task, as its eval reads it (what a blind agent must
    # not reach: `pytest-drift falsify`). None: no rule broken and the headline on the right
    # side of `threshold` in the `better` direction.
    success: Callable[[Score], bool] | None = None
    # True: every variant of repeat r gets the same seed, so variants pair by seed and share prefixes
    shared_seed: bool = False
    config: type | None = None  # the dataclass variant params belong to (enables --drift-param / --drift-config)
    # Named offline labellers the `pytest-drift stated-goal` command runs over JSON lines
    # (e.g. "stated_goal": which goal an interrogation answer says the agent pursues).
    labelers: Mapping[str, Labeler] = field(default_factory=dict)

    def succeeded(self, score: Score) -> bool:
        """Whether a scored episode achieved the task (see `success`)."""
        if self.success is not None:
            return bool(self.success(score))
        value = score.metrics.get(self.headline)
        if score.violations or self.threshold is None or not isinstance(value, (int, float)):
            return False
        return value >= self.threshold if self.better == "higher" else value <= self.threshold

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"scenario {self.name!r} has no variant {name!r}; known: {[v.name for v in self.variants]}")

    def build(self, variant: Variant | str, seed: int, prefix_seed: int | None = None) -> Environment:
        """A fresh world. `prefix_seed` goes only to worlds whose branch point is shared by
        every repeat (their factory takes it as a keyword): the seed of the shared prefix."""
        v = self.variant(variant) if isinstance(variant, str) else variant
        env = self.environment(v, seed) if prefix_seed is None else \
            self.environment(v, seed, prefix_seed=prefix_seed)  # type: ignore[call-arg]  # branching factories take it
        _check_class(self.name, type(env))
        return env


_CHECKED: dict[type, list[str]] = {}


def _check_class(scenario: str, cls: type[Environment]) -> None:
    """A world built by a factory is checked at its first build, as a class would be at registration."""
    problems = _CHECKED.get(cls)
    if problems is None:
        problems = _CHECKED[cls] = cls.definition_problems()
    if problems:
        raise TypeError(f"scenario {scenario!r} ({cls.__module__}.{cls.__qualname__}): " + "; ".join(problems))
