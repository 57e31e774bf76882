"""Gym variants as YAML files: `configs/<scenario>/<variant>.yaml` with `description`,
`in_default_run` (default true) and `params` (fields of the scenario's config dataclass)."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any

import yaml

from pytest_drift import Variant

CONFIG_DIR = Path(__file__).parent / "configs"


def read_variant(path: Path, config: type, name: str | None = None) -> Variant:
    """One variant from a YAML file; unknown keys or parameters are errors naming the file."""
    data = yaml.safe_load(path.read_text()) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with description/params")
    extra = set(data) - {"description", "in_default_run", "params", "scenario", "name"}
    if extra:
        raise ValueError(f"{path}: unknown key(s) {sorted(extra)}")
    params: dict[str, Any] = data.get("params") or {}
    fields = {f.name for f in dataclasses.fields(config)}
    unknown = set(params) - fields
    if unknown:
        raise ValueError(f"{path}: unknown parameter(s) {sorted(unknown)}; known: {sorted(fields)}")
    config(**params)  # type and range checks of the config itself
    return Variant(name or data.get("name") or path.stem, params, data.get("description", ""),
                   in_default_run=bool(data.get("in_default_run", True)))


def load_variants(scenario: str, config: type) -> tuple[Variant, ...]:
    """The scenario's shipped variants, `default` first, then by name."""
    paths = sorted((CONFIG_DIR / scenario).glob("*.yaml"), key=lambda p: (p.stem != "default", p.stem))
    if not paths:
        raise FileNotFoundError(f"no variant configs under {CONFIG_DIR / scenario}")
    return tuple(read_variant(p, config) for p in paths)
