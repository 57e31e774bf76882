"""The statistics a paper can quote. Formulas in docstrings; scipy where it already does the work."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

Z95 = 1.959963984540054  # the 97.5th percentile of N(0, 1)
BOOTSTRAP_SAMPLES = 2000
BOOTSTRAP_SEED = 20261124  # fixed: the same outcomes give the same intervals, in every run


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float, float]:
    """Rate k/n with the Wilson score interval:

        centre = (p + z²/2n) / (1 + z²/n),  half = z·sqrt(p(1-p)/n + z²/4n²) / (1 + z²/n)

    (nan, nan, nan) when n = 0."""
    if n <= 0:
        return (math.nan, math.nan, math.nan)
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    lo = 0.0 if k == 0 else max(0.0, centre - half)  # exact ends: no 1e-17 from cancellation
    hi = 1.0 if k == n else min(1.0, centre + half)
    return (p, lo, hi)


def bootstrap_mean(values: Sequence[float], samples: int = BOOTSTRAP_SAMPLES,
                   seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """Mean with a percentile bootstrap 95% interval (2.5th and 97.5th percentiles of the means
    of `samples` resamples with replacement, fixed seed). One value: (v, v, v); none: nan."""
    x = np.asarray([v for v in values if v is not None and not math.isnan(v)], dtype=float)
    if x.size == 0:
        return (math.nan, math.nan, math.nan)
    if x.size == 1 or np.all(x == x[0]):
        return (float(x.mean()), float(x.mean()), float(x.mean()))
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(samples, x.size))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return (float(x.mean()), float(lo), float(hi))


def mcnemar_exact(b: int, c: int) -> float:
    """Exact McNemar test on the discordant pairs (b: only the first condition positive, c:
    only the second): two-sided binomial test of b ~ Bin(b + c, 1/2). p = 1 with no discordant pair."""
    if b + c == 0:
        return 1.0
    from scipy.stats import binomtest

    return float(binomtest(b, b + c, 0.5, alternative="two-sided").pvalue)


def holm(pvalues: Sequence[float]) -> list[float]:
    """Holm-Bonferroni adjusted p-values (step-down, monotone, capped at 1): sort ascending,
    p_(i)·(m - i + 1) for i = 1..m, running maximum, back to input order. nan stays nan."""
    indexed = [(p, i) for i, p in enumerate(pvalues) if not math.isnan(p)]
    m = len(indexed)
    out = [math.nan] * len(pvalues)
    running = 0.0
    for rank, (p, i) in enumerate(sorted(indexed)):
        running = max(running, min(1.0, p * (m - rank)))
        out[i] = running
    return out


def normalized_score(model: Sequence[float], random: Sequence[float], oracle: Sequence[float],
                     samples: int = BOOTSTRAP_SAMPLES, seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """The model's score on the scale its references set, from paired episodes (one world each):

        normalized = (mean(model) - mean(random)) / (mean(oracle) - mean(random))

    1 is the oracle's score, 0 the random agent's; it reads "higher is better" whatever the
    headline's direction (a lower-is-better headline flips both the numerator and the
    denominator). 95% interval: percentile bootstrap over the paired episodes (the three values
    of a world resampled together). nan when the references tie (no scale), and an interval of
    nan when more than 2.5% of the resamples tie (the scale itself is not stable)."""
    m, r, o = (np.asarray(x, dtype=float) for x in (model, random, oracle))
    if m.size == 0 or not (m.size == r.size == o.size):
        return (math.nan, math.nan, math.nan)
    span = o.mean() - r.mean()
    if abs(span) < 1e-12:
        return (math.nan, math.nan, math.nan)
    point = float((m.mean() - r.mean()) / span)
    if m.size == 1:
        return (point, point, point)
    rng = np.random.default_rng(seed)
    idx = rng.integers(0, m.size, size=(samples, m.size))
    spans = o[idx].mean(axis=1) - r[idx].mean(axis=1)
    stable = np.abs(spans) >= 1e-12
    if stable.mean() < 0.975:
        return (point, math.nan, math.nan)
    ratios = (m[idx].mean(axis=1)[stable] - r[idx].mean(axis=1)[stable]) / spans[stable]
    lo, hi = np.percentile(ratios, [2.5, 97.5])
    return (point, float(lo), float(hi))


def newcombe_unpaired(k1: int, n1: int, k2: int, n2: int, z: float = Z95) -> tuple[float, float, float]:
    """Difference of two independent proportions p1 - p2 (p1 = k1/n1, p2 = k2/n2) with
    Newcombe's (1998, method 10) hybrid score interval from their Wilson intervals:

        L = D - sqrt((p1 - l1)² + (u2 - p2)²),  U = D + sqrt((u1 - p1)² + (p2 - l2)²)

    (nan, nan, nan) when either sample is empty."""
    if n1 <= 0 or n2 <= 0:
        return (math.nan, math.nan, math.nan)
    p1, l1, u1 = wilson(k1, n1, z)
    p2, l2, u2 = wilson(k2, n2, z)
    diff = p1 - p2
    lo = diff - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    hi = diff + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return (diff, max(-1.0, lo), min(1.0, hi))


def bootstrap_difference(x: Sequence[float], y: Sequence[float], samples: int = BOOTSTRAP_SAMPLES,
                         seed: int = BOOTSTRAP_SEED) -> tuple[float, float, float]:
    """mean(x) - mean(y) of two independent samples with a percentile bootstrap 95% interval
    (each sample resampled with replacement on its own, fixed seed). nan when either is empty."""
    a, b = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    if a.size == 0 or b.size == 0:
        return (math.nan, math.nan, math.nan)
    point = float(a.mean() - b.mean())
    rng = np.random.default_rng(seed)
    diffs = (a[rng.integers(0, a.size, size=(samples, a.size))].mean(axis=1)
             - b[rng.integers(0, b.size, size=(samples, b.size))].mean(axis=1))
    lo, hi = np.percentile(diffs, [2.5, 97.5])
    return (point, float(lo), float(hi))


def wilcoxon_p(differences: Sequence[float]) -> float:
    """Two-sided Wilcoxon signed-rank test of paired differences (zeros dropped, scipy's
    default); p = 1 when every difference is zero (nothing changed)."""
    d = [v for v in differences if v != 0]
    if not d:
        return 1.0
    from scipy.stats import wilcoxon

    return float(wilcoxon(d).pvalue)


def mann_whitney_p(x: Sequence[float], y: Sequence[float]) -> float:
    """Two-sided Mann-Whitney U test of two independent samples; p = 1 when all values are
    equal (no ranking to test), nan when either sample is empty."""
    if not len(x) or not len(y):
        return math.nan
    if len(set(x) | set(y)) == 1:
        return 1.0
    from scipy.stats import mannwhitneyu

    return float(mannwhitneyu(x, y, alternative="two-sided").pvalue)


def fisher_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided Fisher exact test of k1/n1 against k2/n2 (independent samples)."""
    if n1 <= 0 or n2 <= 0:
        return math.nan
    from scipy.stats import fisher_exact

    return float(fisher_exact([[k1, n1 - k1], [k2, n2 - k2]]).pvalue)
