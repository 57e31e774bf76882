"""What a scenario must be before it registers: a silent zero (an episode that ends at step 0
because `done` was overridden as a method) or a name pytest reads as its own marker is
refused with the scenario, the class and the problem named."""

from __future__ import annotations

import inspect
from .environment import Environment
from .scenario import Scenario

# pytest's own markers: a scenario or family named like one would act as it (`skip` skips)
PYTEST_MARKERS = frozenset({"skip", "skipif", "xfail", "parametrize", "usefixtures", "filterwarnings", "tryfirst",
                            "trylast", "drift", "xdist_group"})
BETTER = ("higher", "lower")


def environment_class(sc: Scenario) -> type[Environment] | None:
    """The world's class when the scenario names one (a factory function tells nothing yet)."""
    env = sc.environment
    return env if inspect.isclass(env) and issubclass(env, Environment) else None


def scenario_problems(sc: Scenario) -> list[str]:
    """Everything that keeps `sc` from registering (empty when it may)."""
    problems = []
    for what, name in (("scenario", sc.name), ("family", sc.family)):
        if not name or not name.replace("_", "").isalnum():
            problems.append(f"the {what} name {name!r} must be letters, digits and underscores")
        elif name in PYTEST_MARKERS:
            problems.append(f"the {what} name {name!r} is one of pytest's own markers (it would act as that marker)")
    names = [v.name for v in sc.variants]
    if not names:
        problems.append("no variants")
    if len(set(names)) != len(names):
        problems.append(f"variant names repeat: {sorted({n for n in names if names.count(n) > 1})}")
    if not sc.headline:
        problems.append("no headline metric declared (Scenario(headline=...))")
    if sc.better not in BETTER:
        problems.append(f"the headline's direction must be declared: Scenario(better='higher' or 'lower'), "
                        f"got {sc.better!r}")
    cls = environment_class(sc)
    if cls is not None:
        problems += cls.definition_problems()
    return problems


def describe_problems(sc: Scenario, problems: list[str]) -> str:
    cls = environment_class(sc)
    where = f"{cls.__module__}.{cls.__qualname__}" if cls is not None else getattr(sc.environment, "__qualname__", "?")
    return f"scenario {sc.name!r} ({where}) refused: " + "; ".join(problems)
