"""Scenario: a named world with variants, reference policies and a headline metric."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable, Iterable, Iterator, Mapping

from .environment import Environment
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
    # True: every variant of repeat r gets the same seed, so variants pair by seed and share prefixes
    shared_seed: bool = False
    config: type | None = None  # the dataclass variant params belong to (enables --drift-param / --drift-config)
    # Named offline labellers the `pytest-drift label` command runs over JSON lines (e.g.
    # "stated_goal": which goal an interrogation answer says the agent pursues).
    labelers: Mapping[str, Labeler] = field(default_factory=dict)

    def variant(self, name: str) -> Variant:
        for v in self.variants:
            if v.name == name:
                return v
        raise KeyError(f"scenario {self.name!r} has no variant {name!r}; known: {[v.name for v in self.variants]}")

    def build(self, variant: Variant | str, seed: int, prefix_seed: int | None = None) -> Environment:
        """A fresh world. `prefix_seed` goes only to worlds whose branch point is shared by
        every repeat (their factory takes it as a keyword): the seed of the shared prefix."""
        v = self.variant(variant) if isinstance(variant, str) else variant
        if prefix_seed is None:
            return self.environment(v, seed)
        return self.environment(v, seed, prefix_seed=prefix_seed)  # type: ignore[call-arg]
