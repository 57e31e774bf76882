"""`--drift-fork EPISODE_ID@K` (repeatable) and `--drift-fork-message TEXT`: the run plays only
forks of recorded episodes (engine.fork), each onto every `--model` (default: the source's
model). Checked once, before any call: the source exists and still replays, K lies in its
steps, the fork's model is a model (not a policy), and no two forks write one cassette."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from .catalogue import REGISTRY
from .options import OPTIONS

if TYPE_CHECKING:  # the engine is imported only when forks are asked for (a plain run never needs it)
    from ..engine.fork import ForkCase

FORKS = pytest.StashKey[list["ForkCase"]]()


def fork_cases(config: pytest.Config) -> list[ForkCase]:
    """The run's forks (empty without --drift-fork), computed and checked once."""
    if FORKS not in config.stash:
        config.stash[FORKS] = _forks(config) if config.stash[OPTIONS].forks else []
    return config.stash[FORKS]


def _forks(config: pytest.Config) -> list[ForkCase]:
    from ..engine.fork import ForkError

    try:
        return _checked_forks(config)
    except ForkError as exc:
        raise pytest.UsageError(str(exc)) from None


def _checked_forks(config: pytest.Config) -> list[ForkCase]:
    from ..engine import Engine
    from ..engine.fork import ForkCase, ForkError, check_fork, parse_fork, replay_settings
    from ..models import parse_model

    options, registry = config.stash[OPTIONS], config.stash[REGISTRY]
    specs, message = options.forks, options.fork_message
    out: list[ForkCase] = []
    seen: dict[str, str] = {}
    for spec in dict.fromkeys(specs):
        source, step = parse_fork(spec, options.cassette_dir, registry)
        check_fork(source, step, Engine(replay_settings(source, options.settings())).play, options.seed)
        for model in options.models or (source.model,):
            if parse_model(model).is_policy:
                raise ForkError(f"--drift-fork {spec}: a fork continues with a model, not {model!r}")
            case = ForkCase(model, source.scenario, source.variant, source.repeat, source_model=source.model,
                            at_step=step, message=message)
            path = str(case.cassette(options.cassette_dir))
            if path in seen:
                raise ForkError(f"--drift-fork {spec} and {seen[path]} would write one cassette ({path})")
            seen[path] = spec
            out.append(case)
    return out


@pytest.hookimpl(trylast=True)  # after the catalogue built the registry
def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # checked once, by the process that collects first
        fork_cases(config)
