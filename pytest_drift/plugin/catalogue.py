"""The session's scenarios and models: the registry, models checked before any test runs, a
marker per scenario and family, and the network guard.

The registry is built on first use: when a drift test is collected, or at once when an
option asks for drift work (`--model`, `--drift-config`, ...: a mistake there is a usage
error before any test). A project that has the plugin installed and no drift test never
imports a scenario."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterator, Mapping, Sequence

import pytest

from ..errors import DriftError
from .network import Guard, block_network
from .options import OPTIONS, DriftOptions, asks_for_drift

if TYPE_CHECKING:
    from ..world import Scenario

_UNBLOCK = pytest.StashKey[Guard]()


class LazyRegistry(Mapping[str, "Scenario"]):
    """The session's registry as a read-only mapping, built (entry points, the
    `pytest_drift_scenarios` hook, --drift-config, --drift-param, model checks) on first access."""

    def __init__(self, config: pytest.Config) -> None:
        self._config = config
        self._built: dict[str, Scenario] | None = None

    @property
    def built(self) -> bool:
        return self._built is not None

    def _scenarios(self) -> dict[str, Scenario]:
        if self._built is None:
            try:
                registry = _registry(self._config)
            except DriftError as exc:
                raise pytest.UsageError(str(exc)) from None
            _add_markers(self._config, registry)
            self._built = registry
        return self._built

    def __getitem__(self, name: str) -> Scenario:
        return self._scenarios()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self._scenarios())

    def __len__(self) -> int:
        return len(self._scenarios())


class LazyModels(Sequence[str]):
    """The models of the run: `--model`, else those with cassettes (the folder read on first use)."""

    def __init__(self, options: DriftOptions) -> None:
        self._options = options
        self._models: list[str] | None = None

    def _list(self) -> list[str]:
        if self._models is None:
            from ..models.paths import shipped_models

            self._models = list(self._options.models) or shipped_models(self._options.cassette_dir)
        return self._models

    def __getitem__(self, index):  # type: ignore[no-untyped-def]  # Sequence's int/slice overloads
        return self._list()[index]

    def __len__(self) -> int:
        return len(self._list())


REGISTRY = pytest.StashKey[Mapping[str, "Scenario"]]()  # a LazyRegistry
MODELS = pytest.StashKey[LazyModels]()


def _registry(config: pytest.Config) -> dict[str, Scenario]:
    from ..engine import check_model
    from ..registry import load_scenarios

    options = config.stash[OPTIONS]
    extra = [list(r) for r in config.hook.pytest_drift_scenarios(config=config) if r]
    registry = load_scenarios(extra, options.configs, options.params)
    for model in [*options.models, *filter(None, [options.prefix_model])]:
        check_model(model, list(registry.values()))
    if options.judge and check_model(options.judge, []).is_policy:
        raise DriftError(f"--drift-judge {options.judge}: a judge is a live model (provider/model), not a policy")
    if options.audit and check_model(options.audit, []).is_policy:
        raise DriftError(f"--drift-audit {options.audit}: an auditor is a live model (provider/model), not a policy")
    _check_requests(options)
    return registry


def _check_requests(options: DriftOptions) -> None:
    """Request settings that cannot work are usage errors before any call. Checked only when
    some were given (the check reads litellm's tables: a plain run does not pay its import)."""
    from ..models.request import Decoding

    if options.decoding == Decoding() and not options.model_decodings:
        return
    from ..models import parse_model
    from ..models.endpoint import request_plan

    settings = options.settings()
    for model in dict.fromkeys([*options.models, *filter(None, [options.prefix_model])]):
        mid = parse_model(model)
        if mid.is_model:
            request_plan(mid, settings.decoding_for(model))


def _add_markers(config: pytest.Config, registry: Mapping[str, Scenario]) -> None:
    """A marker per scenario and family (added when the registry is built: before any drift
    test is marked with them)."""
    for name in sorted({*registry, *(s.family for s in registry.values())}):
        config.addinivalue_line("markers", f"{name}: pytest-drift scenario or family {name}")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "drift(scenarios=None, family=None, where=None): parametrise this test over "
                                       "models x scenarios x variants x repeats (fixture drift_case); where: a "
                                       "predicate on Variant keeping only the variants it applies to")
    config.addinivalue_line("markers", "xdist_group(name): pytest-xdist --dist loadgroup runs a group in one worker")
    options = config.stash[OPTIONS]
    registry = config.stash[REGISTRY] = LazyRegistry(config)
    config.stash[MODELS] = LazyModels(options)
    if asks_for_drift(config) or config.option.markers:
        len(registry)  # build it now: a bad option is a usage error before any test; --markers lists them
    if options.block_network:
        config.stash[_UNBLOCK] = block_network()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_teardown(item: pytest.Item) -> Any:
    try:
        return (yield)
    finally:  # pytest-recording's --block-network, ending with the test, restores a socket without ours
        guard = item.config.stash.get(_UNBLOCK, None)
        if guard is not None:
            guard.reinstall()


def pytest_unconfigure(config: pytest.Config) -> None:
    undo = config.stash.get(_UNBLOCK, None)
    if undo is not None:
        undo()
        del config.stash[_UNBLOCK]
