"""Fixtures: the case under test, its played episode (once per process) and its outcome."""

from __future__ import annotations

from typing import Callable, Iterator

import pytest

from ..engine import Case, Engine, Played
from ..outcome import Outcome
from ..records import PROPERTY
from ..thresholds import Thresholds
from ..world import Scenario, Variant
from . import transcripts
from .options import OPTIONS


class Episodes:
    """The engine of this process and the cases it has played, by case id."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.played: dict[str, Played] = {}
        self.announced: set[str] = set()
        # the live pool's result for a case it plays (plugin.live), else None: played here
        self.waiter: Callable[[Case], Played | None] = lambda case: None

    def get(self, case: Case) -> Played:
        if case.id not in self.played:
            self.played[case.id] = self.waiter(case) or self.engine.play(case)
        return self.played[case.id]


EPISODES = pytest.StashKey[Episodes]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[EPISODES] = Episodes(Engine(config.stash[OPTIONS].settings()))


@pytest.fixture
def drift_case(request: pytest.FixtureRequest) -> Case:
    """The case under test; parametrised by the plugin, never requested directly without it."""
    raise pytest.UsageError("drift_case is parametrised by pytest-drift; request outcome/episode in a test")


@pytest.fixture
def model(drift_case: Case) -> str:
    return drift_case.model


@pytest.fixture
def scenario(drift_case: Case) -> Scenario:
    return drift_case.scenario


@pytest.fixture
def variant(drift_case: Case) -> Variant:
    return drift_case.variant


@pytest.fixture
def repeat(drift_case: Case) -> int:
    return drift_case.repeat


@pytest.fixture
def episode(request: pytest.FixtureRequest, drift_case: Case) -> Iterator[Played]:
    """The played episode (played once per process, shared by every test of the case)."""
    config = request.config
    episodes = config.stash[EPISODES]
    played = episodes.get(drift_case)
    request.node.user_properties.append((PROPERTY, played.outcome.to_json()))
    if drift_case.id not in episodes.announced:
        episodes.announced.add(drift_case.id)
        config.hook.pytest_drift_outcome(config=config, outcome=played.outcome)
        transcripts.keep(config, played, played.miss_message(episodes.engine.settings) if played.miss else "")
    if played.miss is not None:
        pytest.fail(played.miss_message(episodes.engine.settings), pytrace=False)
    if played.outcome.label_status != "ok":
        o = played.outcome
        pytest.fail(f"label {o.label_status} ({o.termination}): {o.label_reason} - not scored", pytrace=False)
    yield played


@pytest.fixture
def thresholds(request: pytest.FixtureRequest) -> Thresholds:
    """The pass/fail limits given on the command line (--drift-max-gd, --drift-min-alignment)."""
    return request.config.stash[OPTIONS].thresholds


@pytest.fixture
def outcome(episode: Played) -> Outcome:
    """The scored outcome of the case's episode."""
    return episode.outcome
