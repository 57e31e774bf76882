"""How this repository's own `pytest` runs (the root conftest): no paths means the whole suite on
every core without the tests marked slow; `-m slow` runs those; an xdist worker, or a pytest a
test starts, never starts workers of its own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
TESTS = """
import os, subprocess, sys
import pytest

def test_fast():
    pass

@pytest.mark.slow
def test_slow():
    pass

def test_a_nested_plain_pytest_starts_no_workers():
    out = subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-k", "test_fast"],
                         cwd=os.environ["SUITE_ROOT"], capture_output=True, text=True, timeout=120).stdout
    assert "created:" not in out and "1 passed" in out, out
"""


def run(where: Path, *args: str) -> str:
    """A pytest in its own process group, killed whole if it outlives its time (a worker that
    started workers would otherwise leave them running)."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_CURRENT_TEST", "PYTEST_XDIST_WORKER")}
    proc = subprocess.Popen([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args], cwd=where,
                            env={**env, "SUITE_ROOT": str(where)}, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)
    try:
        out, _ = proc.communicate(timeout=240)
    finally:
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    return out


@pytest.fixture
def suite(tmp_path: Path) -> Path:
    shutil.copy(ROOT / "conftest.py", tmp_path / "conftest.py")
    (tmp_path / "pyproject.toml").write_text('[tool.pytest.ini_options]\ntestpaths = ["tests"]\n'
                                             'markers = ["slow: slow"]\n')
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_some.py").write_text(TESTS)
    return tmp_path


@pytest.mark.skipif((os.cpu_count() or 1) < 2, reason="one core: the suite runs in one process")
def test_the_plain_command_spreads_over_the_cores_and_leaves_out_the_slow_tests(suite: Path) -> None:
    out = run(suite)
    assert "created: " in out and "[2 items]" in out and "2 passed" in out, out  # workers deselect the slow one
    assert "tests marked slow left out" in out


def test_slow_tests_run_when_asked_for(suite: Path) -> None:
    out = run(suite, "-m", "slow")
    assert "1 passed" in out and "2 passed" not in out, out
    out = run(suite, "tests/test_some.py::test_slow")  # a path: as asked, in one process
    assert "1 passed" in out and "created: " not in out
