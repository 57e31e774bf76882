"""Fixtures: the case under test, its played episode (once per process) and its outcome.

The canonical names are `drift_*` (`drift_outcome`, `drift_episode`, `drift_scenario`, ...).
The short names (`outcome`, `episode`, `scenario`, `variant`, `model`, `repeat`,
`thresholds`) are the same fixtures under the names the evals use. A plugin's fixtures have
the lowest precedence pytest knows: a project's own fixture of the same name (conftest.py,
a test module or class) replaces the short name wherever it is visible, so this plugin never
shadows one. Outside a drift-parametrised test the short names fail, saying so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Iterator

import pytest

from .options import OPTIONS

if TYPE_CHECKING:
    from ..engine import Case, Engine, Played
    from ..outcome import Outcome
    from ..thresholds import Thresholds
    from ..world import Scenario, Variant


class Episodes:
    """The engine of this process (made on first use) and the cases it has played, by case id."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._engine: Engine | None = None
        self.played: dict[str, Played] = {}
        self.announced: set[str] = set()

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            from ..engine import Engine

            self._engine = Engine(self._config.stash[OPTIONS].settings())
        return self._engine

    def get(self, case: Case) -> Played:
        if case.id not in self.played:
            elsewhere = self._config.hook.pytest_drift_played_elsewhere(config=self._config, case=case)
            self.played[case.id] = elsewhere or self.engine.play(case)
        return self.played[case.id]


EPISODES = pytest.StashKey[Episodes]()


def pytest_configure(config: pytest.Config) -> None:
    config.stash[EPISODES] = Episodes(config)


@pytest.fixture
def drift_case(request: pytest.FixtureRequest) -> Case:
    """The case under test; parametrised by the plugin, never requested directly without it."""
    raise pytest.UsageError(
        f"{request.node.nodeid} asks for a fixture of pytest-drift's (drift_case, behind outcome, episode, scenario, "
        "variant, model and repeat), which exists only in drift tests: those in a file pytest-drift parametrises "
        "over models x scenarios x variants. A fixture of your own under one of these names takes precedence")


@pytest.fixture
def drift_model(drift_case: Case) -> str:
    """The model under test (`provider/model`, `policy/<name>`, `local/...`)."""
    return drift_case.model


@pytest.fixture
def drift_scenario(drift_case: Case) -> Scenario:
    return drift_case.scenario


@pytest.fixture
def drift_variant(drift_case: Case) -> Variant:
    return drift_case.variant


@pytest.fixture
def drift_repeat(drift_case: Case) -> int:
    return drift_case.repeat


@pytest.fixture
def drift_episode(request: pytest.FixtureRequest, drift_case: Case) -> Iterator[Played]:
    """The played episode (played once per process, shared by every test of the case)."""
    from ..records import PROPERTY
    from . import transcripts

    config = request.config
    episodes = config.stash[EPISODES]
    played = episodes.get(drift_case)
    request.node.user_properties.append((PROPERTY, played.outcome.to_json()))
    message = played.miss_message(config.stash[OPTIONS].rerecord_flags()) if played.miss else ""
    if drift_case.id not in episodes.announced:
        episodes.announced.add(drift_case.id)
        config.hook.pytest_drift_outcome(config=config, outcome=played.outcome)
        transcripts.keep(config, played, message)
    if played.miss is not None:
        pytest.fail(message, pytrace=False)
    if played.outcome.label_status != "ok":
        o = played.outcome
        pytest.fail(f"label {o.label_status} ({o.termination}): {o.label_reason} - not scored", pytrace=False)
    yield played


@pytest.fixture
def drift_thresholds(request: pytest.FixtureRequest) -> Thresholds:
    """The pass/fail limits given on the command line (--drift-max-gd, --drift-min-alignment)."""
    return request.config.stash[OPTIONS].thresholds


@pytest.fixture
def drift_outcome(drift_episode: Played) -> Outcome:
    """The scored outcome of the case's episode."""
    return drift_episode.outcome


# The short names the evals use: the same fixtures (a project's own fixture of a name wins).

@pytest.fixture
def model(drift_model: str) -> str:
    return drift_model


@pytest.fixture
def scenario(drift_scenario: Scenario) -> Scenario:
    return drift_scenario


@pytest.fixture
def variant(drift_variant: Variant) -> Variant:
    return drift_variant


@pytest.fixture
def repeat(drift_repeat: int) -> int:
    return drift_repeat


@pytest.fixture
def episode(drift_episode: Played) -> Played:
    return drift_episode


@pytest.fixture
def thresholds(drift_thresholds: Thresholds) -> Thresholds:
    return drift_thresholds


@pytest.fixture
def outcome(drift_outcome: Outcome) -> Outcome:
    return drift_outcome
