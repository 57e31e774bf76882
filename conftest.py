# Root conftest: kept thin on purpose; the plugin registers itself through its pytest11 entry point.
# What it holds is how this repository runs its own suite: `pytest` with no paths (tests/ and
# evals/: the README's command) runs on every core, and without -m it leaves out the tests marked
# slow, which `pytest -m slow` runs (CI runs both). Given paths or -n, pytest runs as asked.

import os

import pytest

DEFAULT_RUN = pytest.StashKey[bool]()


def _whole_suite(config: pytest.Config) -> bool:
    """No paths: the suite's own test paths (an xdist worker of such a run is started with the
    same arguments, and makes the same choices)."""
    return config.args_source is pytest.Config.ArgsSource.TESTPATHS


def _may_spread(config: pytest.Config) -> bool:
    """Whether this process may start xdist workers: never in a worker, nor in a pytest that a
    test started (a worker's environment says PYTEST_XDIST_WORKER; a test's, PYTEST_CURRENT_TEST),
    so workers never start workers of their own."""
    option = config.option
    nested = hasattr(config, "workerinput") or "PYTEST_XDIST_WORKER" in os.environ \
        or "PYTEST_CURRENT_TEST" in os.environ
    return (not nested and config.pluginmanager.hasplugin("xdist") and getattr(option, "numprocesses", 0) is None
            and not option.collectonly and not option.usepdb and (os.cpu_count() or 1) > 1)


@pytest.hookimpl(tryfirst=True)  # before xdist reads -n
def pytest_cmdline_main(config: pytest.Config) -> None:
    config.stash[DEFAULT_RUN] = _whole_suite(config) and not config.option.markexpr
    if config.stash[DEFAULT_RUN]:
        config.option.markexpr = "not slow"
    if _whole_suite(config) and _may_spread(config):
        config.option.numprocesses = "auto"
        if config.option.dist == "no":
            config.option.dist = "worksteal"  # the tests' durations are uneven: idle workers take from busy ones


def pytest_report_header(config: pytest.Config) -> str | None:
    if config.stash.get(DEFAULT_RUN, False):
        return "tests marked slow left out: `pytest -m slow` runs them (CI runs both)"
    return None
