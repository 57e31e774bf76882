"""Plots (matplotlib, Agg backend: no display needed), each as PNG and SVG, in one shared style:

- a metric bounded in [0, 1] gets the axis 0..1 (a difference -1..1), so all-zero values sit on
  a readable axis instead of matplotlib's -0.04..0.04;
- series that coincide stay visible: each is shifted a little along x and has its own marker
  and line style;
- the threshold line is drawn wherever the scenario sets one."""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from typing import Any, Iterable

import pandas as pd

MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*")
LINESTYLES = ("-", "--", ":", "-.")
DODGE = 0.06  # share of one x unit between neighbouring series


@dataclass(frozen=True)
class Plot:
    png: bytes
    svg: bytes


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    plt.rcParams.update({"font.size": 8, "axes.grid": True, "grid.alpha": 0.3, "axes.titlesize": 9,
                         "legend.fontsize": 7,
                         "svg.hashsalt": "pytest-drift",  # the same SVG every time
                         "svg.fonttype": "none"})  # text stays text: editable in a paper's figure
    return plt


def _render(plt: Any, fig: Any, rect: tuple[float, float, float, float] = (0, 0, 1, 1)) -> Plot:
    fig.tight_layout(rect=rect)
    out = {}
    for fmt in ("png", "svg"):
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, metadata={"Date": None} if fmt == "svg" else None)
        out[fmt] = buf.getvalue()
    plt.close(fig)
    return Plot(png=out["png"], svg=out["svg"])


def y_limits(values: Iterable[float]) -> tuple[float, float] | None:
    """0..1 for values in [0, 1], -1..1 for values in [-1, 1] with a negative one (with a small
    margin so points on the edge show); None (matplotlib's own) otherwise."""
    v = [x for x in values if x is not None and not (isinstance(x, float) and math.isnan(x))]
    if not v:
        return (-0.05, 1.05)
    if min(v) >= 0 and max(v) <= 1:
        return (-0.05, 1.05)
    if min(v) >= -1 and max(v) <= 1:
        return (-1.05, 1.05)
    return None


def _apply_limits(ax: Any, values: Iterable[float]) -> None:
    limits = y_limits(values)
    if limits is not None:
        ax.set_ylim(*limits)


def _threshold(ax: Any, threshold: float | None) -> None:
    if threshold is not None and not math.isnan(threshold):
        ax.axhline(threshold, color="firebrick", linestyle="--", linewidth=1, label=f"threshold {threshold:g}")


def ic_by_variant(table: pd.DataFrame) -> Plot | None:
    """IC rate by variant letter per model, Wilson 95% intervals as error bars, k/n over each bar."""
    if table.empty:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.0, 3.8), dpi=100)
    models = sorted(table.model.unique())
    letters = sorted(table.letter.dropna().unique())
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        t = table[table.model == model].set_index("letter").reindex(letters)
        xs = [j + i * width for j in range(len(letters))]
        err = [(t.ic - t.ic_lo).fillna(0).clip(lower=0), (t.ic_hi - t.ic).fillna(0).clip(lower=0)]
        bars = ax.bar(xs, t.ic.fillna(0), width, yerr=err, capsize=3, label=model)
        ax.plot(xs, t.ic.fillna(0), "_", markersize=8, color=bars.patches[0].get_facecolor())  # a 0 rate stays visible
        for x, k, n, hi in zip(xs, t.ic_k, t.n, t.ic_hi):
            if not pd.isna(n):
                ax.text(x, (0 if pd.isna(hi) else hi) + 0.02, f"{int(k)}/{int(n)}", ha="center", fontsize=6)
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(letters))], letters)
    ax.set_ylim(0, 1.1)
    ax.set_xlabel("variant")
    ax.set_ylabel("IC rate (95% Wilson CI)")
    ax.set_title("Instrumental behaviour by variant (k/n: episodes with IC / rows)")
    ax.legend(loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _render(plt, fig)


def drift_curves(curves: pd.DataFrame, scenario: str, series: str, threshold: float | None = None) -> Plot | None:
    """Mean per-step series per model x variant with its 95% band, and the threshold line."""
    c = curves[(curves.scenario == scenario) & (curves.series == series)]
    if c.empty:
        return None
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(9.0, 3.8), dpi=100)
    groups = list(c.groupby(["model", "variant"], sort=True))
    for i, ((model, variant), g) in enumerate(groups):
        shift = (i - (len(groups) - 1) / 2) * DODGE
        ax.plot(g.step + shift, g["mean"], label=f"{model} {variant}", linewidth=1.2,
                marker=MARKERS[i % len(MARKERS)], markersize=3, linestyle=LINESTYLES[i % len(LINESTYLES)])
        ax.fill_between(g.step + shift, g.lo, g.hi, alpha=0.12)
    _threshold(ax, threshold)
    _apply_limits(ax, [*c["mean"], *c.lo, *c.hi, *([threshold] if threshold is not None else [])])
    ax.set_xlabel("step")
    ax.set_ylabel(series)
    ax.set_title(f"{scenario}: {series} over steps (mean, 95% CI)")
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _render(plt, fig)


def gd_vs_n(table: pd.DataFrame) -> Plot | None:
    """GD_actions and GD_inaction against N, one panel per goal pair x condition, per model;
    the baseline subtracted (paired by seed) where the baseline was run, else the raw value
    (the panel's title says which); bootstrap 95% intervals."""
    if table.empty:
        return None
    plt = _pyplot()
    facets = list(table.groupby(["goal_pair", "condition"], sort=True))
    cols = min(3, len(facets))
    rows = math.ceil(len(facets) / cols)
    fig, axes = plt.subplots(rows, cols, figsize=(3.4 * cols + 1.6, 2.8 * rows), dpi=100, squeeze=False)
    for ax, ((pair, condition), g) in zip(axes.flat, facets):
        _gd_panel(ax, g, f"{pair}: {condition}")
    for ax in list(axes.flat)[len(facets):]:
        ax.set_visible(False)
    handles, labels = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=min(4, max(1, len(labels))), fontsize=7)
    legend_rows = math.ceil(len(labels) / 4)
    return _render(plt, fig, rect=(0, min(0.3, 0.05 * legend_rows / rows + 0.03), 1, 1))


def _gd_panel(ax: Any, g: pd.DataFrame, title: str) -> None:
    subtracted = g["diff"].notna().any()
    value, lo, hi = ("diff", "diff_lo", "diff_hi") if subtracted else ("mean", "lo", "hi")
    lines = list(g.groupby(["model", "metric"], sort=True))
    seen: list[float] = []
    for i, ((model, metric), m) in enumerate(lines):
        m = m.sort_values("instrumental_steps").dropna(subset=[value])
        xs = [n * 2 ** ((i - (len(lines) - 1) / 2) * DODGE) for n in m.instrumental_steps]  # dodge on a log axis
        ax.errorbar(xs, m[value], yerr=[(m[value] - m[lo]).clip(lower=0), (m[hi] - m[value]).clip(lower=0)],
                    marker=MARKERS[i % len(MARKERS)], linestyle=LINESTYLES[i % len(LINESTYLES)], capsize=3,
                    markersize=4, label=f"{model} {metric}")
        seen += [*m[value], *m[lo], *m[hi]]
    if subtracted:
        ax.axhline(0.0, color="grey", linewidth=0.8)
    steps = sorted(int(n) for n in g.instrumental_steps.unique())
    ax.set_xscale("log", base=2)
    ax.set_xlim(steps[0] / 1.6, steps[-1] * 1.6)
    ax.set_xticks(steps, [str(n) for n in steps])
    ax.minorticks_off()
    _apply_limits(ax, seen)
    ax.set_xlabel("N (instrumental steps)")
    ax.set_ylabel("GD - baseline" if subtracted else "GD (baseline not run)")
    ax.set_title(title)
