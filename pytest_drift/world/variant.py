"""Variant: a declarative record of what one condition changes, and its config."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Callable, Mapping


@dataclass(frozen=True)
class Variant:
    """What changes from the scenario's baseline: parameter overrides plus a description.

    `params` must hold only the factors this variant is about; a test compares every
    variant's resolved config with the baseline's to prove nothing else differs.
    """

    name: str
    params: Mapping[str, Any] = field(default_factory=dict)
    description: str = ""
    in_default_run: bool = True  # diagnostic variants are opt-in
    # The variant this one is compared with (e.g. a hedge_fund condition's no-switch run);
    # None: the scenario's default comparison. Renamed along with the variant by overrides.
    baseline: str | None = None
    # What the variant stands for, as data the report groups by (e.g. letter "C"; goal
    # pair, condition and N): never parsed back from the name.
    factors: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "factors", MappingProxyType(dict(self.factors)))


def config_of(config: Callable[..., Any], variant: Variant) -> Any:
    """A variant's params as its scenario's config dataclass; an unknown name is an error."""
    known = {f.name for f in dataclasses.fields(config)}  # type: ignore[arg-type]  # a dataclass type, typed as its constructor
    unknown = set(variant.params) - known
    if unknown:
        raise ValueError(f"unknown {getattr(config, '__name__', 'config')} parameter(s) {sorted(unknown)} "
                         f"in variant {variant.name!r}")
    return config(**variant.params)
