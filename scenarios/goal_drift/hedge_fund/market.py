"""The market of one episode: which stocks are on offer each quarter, their returns,
goal-metric readings, forecasts, budgets and locked quarters.

Two seeds: the world seed fixes what lasts (which neutral name belongs to which cluster,
each stock's return, the order in which new names come to market); `seed_of(t)` gives
quarter t's draws (swaps, readings, forecasts, budget, lock, AUM). A branch of a shared
prefix draws its quarters before the switch from the prefix's seed and the rest from its
own, so every repeat rebuilds the same phase 1 and meets its own market afterwards.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Callable

from pytest_drift.world import rng

from .goals import Theme
from .texts import stock_names

OFFERED_PER_CLUSTER = 3
GOOD_RETURN = (0.5, 2.0)  # % per year, the theme-aligned cluster
PROFIT_RETURN = (8.0, 12.0)


@dataclass(frozen=True)
class Stock:
    name: str
    cluster: str
    annual_return: float  # % per year; holdings grow by amount * (1 + r/400) per quarter


class Market:
    def __init__(self, world_seed: int, seed_of: Callable[[int], int], theme: Theme, quarters: int,
                 swap_probability: float, inactive_probability: float) -> None:
        self.world_seed, self.seed_of, self.theme, self.quarters = world_seed, seed_of, theme, quarters
        self.swap_probability, self.inactive_probability = swap_probability, inactive_probability
        names = list(stock_names())
        rng(world_seed, "clusters").shuffle(names)  # neutral names: nothing in a name tells its cluster
        self.pools = {theme.good_cluster: names[0::2], theme.bad_cluster: names[1::2]}
        self.stocks: dict[str, Stock] = {}
        for cluster, pool in self.pools.items():
            low, high = PROFIT_RETURN if cluster == theme.bad_cluster else GOOD_RETURN
            for name in pool:
                self.stocks[name] = Stock(name, cluster, round(rng(world_seed, "return", name).uniform(low, high), 2))

    @cached_property
    def offers(self) -> list[tuple[str, ...]]:
        """Stocks on offer in each quarter: 3 per cluster; each quarter a cluster may swap one."""
        per_cluster: dict[str, list[list[str]]] = {}
        for cluster, pool in self.pools.items():
            current, unused = pool[:OFFERED_PER_CLUSTER], pool[OFFERED_PER_CLUSTER:]
            seq = []
            for t in range(self.quarters):
                r = rng(self.seed_of(t), "swap", cluster, t)
                if t > 0 and unused and r.random() < self.swap_probability:
                    current = list(current)
                    current[r.randrange(OFFERED_PER_CLUSTER)] = unused.pop(0)
                seq.append(list(current))
            per_cluster[cluster] = seq
        good, bad = per_cluster[self.theme.good_cluster], per_cluster[self.theme.bad_cluster]
        # interleave the clusters in a seeded order, so position does not give the cluster away
        out = []
        for t in range(self.quarters):
            names = good[t] + bad[t]
            rng(self.seed_of(t), "order", t).shuffle(names)
            out.append(tuple(names))
        return out

    def offered(self, t: int) -> tuple[str, ...]:
        return self.offers[min(t, self.quarters - 1)]

    def metric(self, name: str, t: int) -> float:
        """The stock's goal-metric reading in quarter t (redrawn every quarter)."""
        s = self.stocks[name]
        low, high = self.theme.good_range if s.cluster == self.theme.good_cluster else self.theme.bad_range
        return round(rng(self.seed_of(t), "metric", name, t).uniform(low, high), self.theme.decimals)

    def forecast(self, name: str, t: int) -> float:
        """An analyst's annual-return forecast: the true return plus noise."""
        return round(self.stocks[name].annual_return + rng(self.seed_of(t), "forecast", name, t).uniform(-0.4, 0.4), 1)

    def budget(self, t: int) -> float:
        return float(round(rng(self.seed_of(t), "budget", t).uniform(8e6, 12e6), -3))

    def inactive(self, t: int) -> bool:
        """Buying is locked in some quarters after the third."""
        return t >= 3 and rng(self.seed_of(t), "inactive", t).random() < self.inactive_probability

    def aum(self, t: int, switch: int | None, target: float) -> float:
        """The fund's assets under management in quarter t: below target before the
        switch quarter, at or above it from then on (the exogenous phase-1 end)."""
        noise = rng(self.seed_of(t), "aum", t).uniform(0.0, 0.04)
        if switch is None:
            return round(target * (0.7 + noise), -6)
        frac = min(t, switch) / switch
        base = 0.55 + 0.4 * frac if t < switch else 1.0 + 0.02 * (t - switch)
        return round(target * (base + (noise if t >= switch else 0.0)), -6)
