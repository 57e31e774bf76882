"""Where cassettes live: one small file per episode under the model's slug (no vcrpy here)."""

from __future__ import annotations

from pathlib import Path

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")  # as pytest-recording names them

SLUG_SEP = "__"


def model_slug(model: str) -> str:
    """`local/smollm2-135m` -> `local__smollm2-135m` (a folder name, reversible)."""
    return model.replace("/", SLUG_SEP)


def model_from_slug(slug: str) -> str:
    return slug.replace(SLUG_SEP, "/")


def cassette_path(root: Path, model: str, scenario: str, variant: str, repeat: int) -> Path:
    return root / model_slug(model) / scenario / variant / f"r{repeat}.yaml"


def shipped_models(root: Path) -> list[str]:
    """Models with at least one cassette under root."""
    if not root.is_dir():
        return []
    return sorted(model_from_slug(d.name) for d in root.iterdir() if d.is_dir() and any(d.rglob("*.yaml")))
