"""External programs some tests drive (node, chromium): a developer without one gets a skip
that says why; CI (CI set, as .ci/run does) installs them, so there a missing one fails."""

from __future__ import annotations

import os
import shutil

import pytest


def required(program: str, why: str) -> str:
    """The program's path; a skip naming it and `why` where it is missing, a failure in CI."""
    path = shutil.which(program)
    if path is not None:
        return path
    message = f"no {program} on PATH: {why}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (.ci/run installs it; a skip in CI would hide what it checks)")
    pytest.skip(message)
