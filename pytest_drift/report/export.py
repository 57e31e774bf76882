"""Every table of report.json as a file a paper can take: `tables/NAME.csv` (the same rows and
columns, numbers unrounded) and `tables/NAME.tex` (a booktabs tabular; a value with an interval
reads `mean [lo, hi] (n)` in one cell)."""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import Any

import pandas as pd

# the column that says how many observations stand behind an interval, by preference
N_COLUMNS = ("n", "scored", "pairs", "episodes")
N_FOR = {"normalized": "paired", "diff": "pairs"}  # an interval over paired worlds counts the pairs
_LATEX_SPECIAL = re.compile(r"([\\&%$#_{}~^])")
_LATEX_ESCAPES = {"\\": r"\textbackslash{}", "~": r"\textasciitilde{}", "^": r"\textasciicircum{}"}


def csv_text(df: pd.DataFrame) -> str:
    """The table as CSV: one line per row of report.json's table, unknown values empty."""
    return str(df.to_csv(index=False, lineterminator="\n", na_rep=""))


def latex_escape(text: str) -> str:
    return _LATEX_SPECIAL.sub(lambda m: _LATEX_ESCAPES.get(m.group(1), "\\" + m.group(1)), text)


def _number(value: Any) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "--"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:.3f}"
    return latex_escape(str(value))


def _n_column(df: pd.DataFrame, value: str) -> str | None:
    own = N_FOR.get(value)
    if own is not None and own in df.columns:
        return own
    return next((c for c in N_COLUMNS if c in df.columns), None)


def interval_triples(df: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(value, low, high) column triples: `x`, `x_lo`, `x_hi`, and `mean`, `lo`, `hi`."""
    out = [(c, f"{c}_lo", f"{c}_hi") for c in df.columns if f"{c}_lo" in df.columns and f"{c}_hi" in df.columns]
    if {"mean", "lo", "hi"} <= set(df.columns):
        out.append(("mean", "lo", "hi"))
    return out


def latex_cells(df: pd.DataFrame) -> pd.DataFrame:
    """The table's cells as LaTeX text: each value with an interval as `mean [lo, hi] (n)`."""
    out = pd.DataFrame({c: [_number(v) for v in df[c]] for c in df.columns}, index=df.index)
    for value, lo, hi in interval_triples(df):
        n = _n_column(df, value)
        counts = df[n] if n is not None else pd.Series([None] * len(df), index=df.index)
        out[value] = [_cell(m, a, b, k) for m, a, b, k in zip(df[value], df[lo], df[hi], counts)]
        out = out.drop(columns=[lo, hi])
    return out


def _cell(mean: Any, lo: Any, hi: Any, n: Any) -> str:
    if _number(mean) == "--":
        return "--"
    count = "" if n is None or n is pd.NA or (isinstance(n, float) and math.isnan(n)) else f" ({int(n)})"
    return f"{_number(mean)} [{_number(lo)}, {_number(hi)}]{count}"


def _numeric(col: pd.Series) -> bool:
    return pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)


def latex_table(name: str, df: pd.DataFrame, caption: str = "") -> str:
    """A booktabs table (\\toprule, \\midrule, \\bottomrule; needs \\usepackage{booktabs}),
    text columns left-aligned, the others right-aligned."""
    cells = latex_cells(df)
    # numbers right, text left: pandas 3 gives text its own str dtype, not object
    align = "".join("r" if c in df.columns and _numeric(df[c]) else "l" for c in cells.columns)
    head = " & ".join(latex_escape(str(c)) for c in cells.columns) + r" \\"
    body = [" & ".join(row) + r" \\" for row in cells.itertuples(index=False)]
    lines = [f"% pytest-drift table {name}: {len(df)} rows", r"\begin{table}[ht]", r"\centering", r"\small",
             rf"\begin{{tabular}}{{{align}}}", r"\toprule", head, r"\midrule", *body, r"\bottomrule",
             r"\end{tabular}"]
    if caption:
        lines.append(rf"\caption{{{latex_escape(caption)}}}")
    lines += [rf"\label{{tab:drift-{re.sub(r'[^A-Za-z0-9]+', '-', name)}}}", r"\end{table}", ""]
    return "\n".join(lines)


def write_tables(out: Path, tables: dict[str, pd.DataFrame], formats: tuple[str, ...],
                 captions: dict[str, str] | None = None) -> list[Path]:
    """`out/tables/NAME.csv` and/or `.tex` for each table, as `formats` asks (csv, latex). A table
    without columns is skipped; one with columns and no rows keeps its header line."""
    wanted = [f for f in ("csv", "latex") if f in formats]
    if not wanted:
        return []
    folder = out / "tables"
    folder.mkdir(parents=True, exist_ok=True)
    written = []
    for name, df in tables.items():
        if not len(df.columns):  # nothing to head a file with (no rows read back from report.json):
            continue  # not written, rather than a 0-byte CSV pandas cannot read
        if "csv" in wanted:
            written.append(_write(folder / f"{name}.csv", csv_text(df)))
        if "latex" in wanted:
            written.append(_write(folder / f"{name}.tex", latex_table(name, df, (captions or {}).get(name, ""))))
    return written


def _write(path: Path, text: str) -> Path:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return path
