"""Where cassettes live: one small file per episode under the model's slug (no vcrpy here)."""

from __future__ import annotations

from pathlib import Path

RECORD_MODES = ("none", "once", "new_episodes", "all", "rewrite")  # as pytest-recording names them

SLUG_SEP = "__"
# Characters no Windows file name may hold (and '%', the escape itself): written as %XX, so
# `openrouter/x/y:exacto` is a folder everywhere, the same on every OS, and reversible.
_UNSAFE = '%<>:"\\|?*'


def model_slug(model: str) -> str:
    """`local/smollm2-135m` -> `local__smollm2-135m`, `openrouter/google/gemini-3-flash-preview:exacto`
    -> `openrouter__google__gemini-3-flash-preview%3Aexacto` (a folder name, reversible)."""
    escaped = "".join(f"%{ord(c):02X}" if c in _UNSAFE else c for c in model)
    return escaped.replace("/", SLUG_SEP)


def model_from_slug(slug: str) -> str:
    from urllib.parse import unquote

    return unquote(slug.replace(SLUG_SEP, "/"))


def cassette_path(root: Path, model: str, scenario: str, variant: str, repeat: int) -> Path:
    return root / model_slug(model) / scenario / variant / f"r{repeat}.yaml"


def shipped_models(root: Path) -> list[str]:
    """Models with at least one cassette under root."""
    if not root.is_dir():
        return []
    return sorted(model_from_slug(d.name) for d in root.iterdir() if d.is_dir() and any(d.rglob("*.yaml")))
