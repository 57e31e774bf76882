"""A case (model x scenario x variant x repeat) and the settings it is played with."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from ..models import ModelId, parse_model
from ..models.paths import cassette_path
from ..models.prices import Price
from ..models.request import Decoding
from ..world import BranchPoint, Environment, Scenario, Variant, episode_seed, prefix_seed
from .loop import Limits


@dataclass(frozen=True)
class Settings:
    cassette_dir: Path
    record_mode: str = "none"
    api_base: str | None = None
    drift_seed: int = 0
    limits: Limits = field(default_factory=Limits)
    prefix_model: str | None = None  # cross-model conditioning: this model plays every prefix
    judge: str | None = None  # an LLM judge for stated-goal interrogations (recorded like an episode)
    audit: str | None = None  # a review-only LLM audit of instrumental traces (engine.audit; recorded too)
    # live models' sampling, output cap and reasoning (None fields: the model kind's default,
    # models.request); a model's own settings (--drift-config `models:`) override the run's
    decoding: Decoding = field(default_factory=Decoding)
    model_decodings: tuple[tuple[str, Decoding], ...] = ()
    # a model's own server and price (--drift-config `models:` api_base, input/output_per_mtok)
    model_api_bases: tuple[tuple[str, str], ...] = ()
    model_prices: tuple[tuple[str, Price], ...] = ()

    def decoding_for(self, model: str) -> Decoding:
        own = dict(self.model_decodings).get(model)
        return self.decoding if own is None else own.over(self.decoding)

    def api_base_for(self, model: str) -> str | None:
        """The model's own server, else the run's --drift-api-base."""
        return dict(self.model_api_bases).get(model, self.api_base)

    def price_for(self, model: str) -> Price | None:
        return dict(self.model_prices).get(model)


@dataclass(frozen=True)
class Case:
    model: str
    scenario: Scenario
    variant: Variant
    repeat: int

    @property
    def id(self) -> str:
        return f"{self.model}-{self.scenario.name}-{self.variant.name}-r{self.repeat}"

    @property
    def model_id(self) -> ModelId:
        return parse_model(self.model)

    def seed(self, drift_seed: int) -> int:
        variant = "*" if self.scenario.shared_seed else self.variant.name
        return episode_seed(self.scenario.name, variant, self.repeat, drift_seed)

    def world(self, drift_seed: int) -> tuple[Environment, BranchPoint | None]:
        """The case's fresh world and its branch point. A world whose prefix is shared by
        every repeat is built with the prefix seed, so every repeat rebuilds that prefix."""
        seed = self.seed(drift_seed)
        env = self.scenario.build(self.variant, seed)
        point = env.branch_point()
        if point is not None and point.shared:
            env = self.scenario.build(self.variant, seed, prefix_seed=prefix_seed(self.scenario.name, drift_seed))
            point = env.branch_point()
        return env, point

    def cassette(self, root: Path) -> Path:
        return cassette_path(root, self.model, self.scenario.name, self.variant.name, self.repeat)
