"""Plots (matplotlib, Agg backend: no display needed), returned as PNG bytes."""

from __future__ import annotations

import io

import pandas as pd


def _figure(width: float = 9.0, height: float = 3.8):  # type: ignore[no-untyped-def]
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt, plt.subplots(figsize=(width, height), dpi=100)


def _png(plt, fig) -> bytes:  # type: ignore[no-untyped-def]
    buf = io.BytesIO()
    fig.tight_layout()
    fig.savefig(buf, format="png")
    plt.close(fig)
    return buf.getvalue()


def ic_by_variant(table: pd.DataFrame) -> bytes | None:
    """IC rate by variant letter per model, Wilson 95% intervals as error bars."""
    if table.empty:
        return None
    plt, (fig, ax) = _figure()
    models = sorted(table.model.unique())
    letters = sorted(table.letter.dropna().unique())
    width = 0.8 / max(1, len(models))
    for i, model in enumerate(models):
        t = table[table.model == model].set_index("letter").reindex(letters)
        xs = [j + i * width for j in range(len(letters))]
        err = [(t.ic - t.ic_lo).fillna(0).clip(lower=0), (t.ic_hi - t.ic).fillna(0).clip(lower=0)]
        bars = ax.bar(xs, t.ic.fillna(0), width, yerr=err, capsize=3, label=model)
        ax.plot(xs, t.ic.fillna(0), "_", markersize=8, color=bars.patches[0].get_facecolor())  # a 0 rate stays visible
    ax.set_xticks([j + width * (len(models) - 1) / 2 for j in range(len(letters))], letters)
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("variant")
    ax.set_ylabel("IC rate (95% Wilson CI)")
    ax.set_title("Instrumental behaviour by variant")
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(plt, fig)


def drift_curves(curves: pd.DataFrame, scenario: str, series: str) -> bytes | None:
    """Mean per-step series per model x variant with its 95% band."""
    c = curves[(curves.scenario == scenario) & (curves.series == series)]
    if c.empty:
        return None
    plt, (fig, ax) = _figure()
    for (model, variant), g in c.groupby(["model", "variant"], sort=True):
        ax.plot(g.step, g["mean"], label=f"{model} {variant}", linewidth=1.2)
        ax.fill_between(g.step, g.lo, g.hi, alpha=0.15)
    ax.set_xlabel("step")
    ax.set_ylabel(series)
    ax.set_title(f"{scenario}: {series} over steps (mean, 95% CI)")
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.01, 0.5))
    return _png(plt, fig)


def gd_vs_n(table: pd.DataFrame, by: str = "instrumental_steps") -> bytes | None:
    """Goal drift against the instrumental-phase length N (tables.gd_by_steps); None without such data."""
    if table.empty or by not in table:
        return None
    metric = str(table.metric.iloc[0])
    plt, (fig, ax) = _figure()
    for (model, series), g in table.groupby(["model", "series"], sort=True):
        g = g.sort_values(by)
        ax.errorbar(g[by], g["mean"], yerr=[g["mean"] - g.lo, g.hi - g["mean"]], marker="o", capsize=3,
                    label=f"{model} {series}")
    ax.set_xscale("log", base=2)
    ax.set_xlabel("N (instrumental steps)")
    ax.set_ylabel(metric)
    ax.legend(fontsize=7)
    return _png(plt, fig)
