"""Recorded verdicts shipped beside the cassettes: `cassettes/<model-slug>/baseline.json`.

A replay is a regression check: a test whose recorded verdict was "failed" (the model
showed the behaviour when recorded) is a strict xfail in replay, so a replay that now
passes - or fails where it passed - is reported loudly. `--drift-no-baseline` shows the
raw verdicts instead.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Iterable

import pytest

from ..models.paths import model_slug
from .options import OPTIONS, case_of, plain_nodeid

if TYPE_CHECKING:
    from ..records import TestRecord

FILE = "baseline.json"
REASON = "recorded verdict of"


def key(nodeid: str) -> str:
    """`evals/test_gym.py::test_x[...]` -> `test_gym.py::test_x[...]` (independent of rootdir)."""
    path, _, rest = plain_nodeid(nodeid).partition("::")
    return f"{Path(path).name}::{rest}"


def load(cassette_dir: Path, model: str) -> dict[str, str]:
    path = cassette_dir / model_slug(model) / FILE
    return json.loads(path.read_text()) if path.is_file() else {}


def update(cassette_dir: Path, records: Iterable[TestRecord]) -> list[Path]:
    """Merge the verdicts of recorded (non-policy) tests into each model's baseline file."""
    from ..models import parse_model

    by_model: dict[str, dict[str, str]] = {}
    for rec in records:
        if rec.outcome is None or parse_model(rec.outcome.model).is_policy or rec.status not in ("passed", "failed"):
            continue
        by_model.setdefault(rec.outcome.model, {})[key(rec.nodeid)] = rec.status
    written = []
    for model, verdicts in by_model.items():
        path = cassette_dir / model_slug(model) / FILE
        merged = {**load(cassette_dir, model), **verdicts}
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(dict(sorted(merged.items())), indent=1) + "\n")
        written.append(path)
    return written


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Replay: a test whose recorded verdict is "failed" becomes a strict xfail."""
    options = config.stash[OPTIONS]
    if options.record_mode != "none" or options.no_baseline:
        return
    baselines: dict[str, dict[str, str]] = {}
    for item in items:
        case = case_of(item)
        if case is None:
            continue
        verdicts = baselines.get(case.model)
        if verdicts is None:
            verdicts = baselines[case.model] = load(options.cassette_dir, case.model)
        if verdicts.get(key(item.nodeid)) == "failed":
            item.add_marker(pytest.mark.xfail(strict=True, reason=f"{REASON} {case.model}: failed "
                                                                  "(regression check; --drift-no-baseline for raw)"))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]  # a hookwrapper generator
    """A recorded failure excuses the behaviour, never an unscored episode: an episode that
    could not be scored (cassette miss, provider error) fails in setup, and stays an error."""
    outcome = yield
    report = outcome.get_result()
    if report.when == "setup" and str(getattr(report, "wasxfail", "")).startswith(REASON):
        report.outcome = "failed"
        del report.wasxfail
