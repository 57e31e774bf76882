"""The run manifest: what produced these outcomes. Nothing secret: the command line and
options are redacted like every other text bound for a report."""

from __future__ import annotations

import hashlib
import platform
import re
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any, Iterable

from ..errors import redact

PACKAGES = ("pytest-drift", "pytest", "litellm", "vcrpy", "pydantic", "pandas", "numpy", "scipy", "matplotlib",
            "bashkit", "pytest-xdist")


def _git(root: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


def _versions() -> dict[str, str]:
    out = {}
    for name in PACKAGES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            pass
    return out


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _safe(value: Any) -> str:
    """An option's text without credentials or URL query strings (keys travel there)."""
    text = redact(str(value))
    return re.sub(r"(https?://[^\s?]+)\?\S*", r"\1", text)


def build_manifest(root: Path, models: Iterable[str], scenarios: Iterable[str], cassettes: Iterable[str],
                   options: dict[str, Any], command: list[str] | None = None,
                   scenario_hashes: dict[str, str] | None = None) -> dict[str, Any]:
    """`scenario_hashes` are handed in by whoever knows the scenarios as run (the report never
    reads the registry); scenarios absent from it are listed without a hash."""
    commit = _git(root, "rev-parse", "HEAD")
    status = _git(root, "status", "--porcelain")
    hashes = {}
    for rel in sorted({c for c in cassettes if c}):
        path = root / rel
        if path.is_file():
            hashes[rel] = _sha256(path)
    return {
        "git_commit": commit, "git_dirty": None if status is None else bool(status),
        "python": platform.python_version(), "platform": platform.platform(terse=True),
        "packages": _versions(),
        "command": redact(" ".join(command if command is not None else sys.argv)),
        "models": sorted(set(models)),
        "options": {k: _safe(v) for k, v in sorted(options.items())},
        "scenario_hashes": {n: (scenario_hashes or {}).get(n) for n in sorted(set(scenarios))},
        "cassette_hashes": hashes,
    }
