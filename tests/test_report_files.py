"""Every file a report writes can be read back: no 0-byte CSV, no table of a family the run did
not have, an empty table with its header."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from pytest_drift.report import build_report, frames_from_records
from pytest_drift.report.export import write_tables

ROOT = Path(__file__).resolve().parents[1]


def csv_files(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*.csv"))


def assert_every_csv_reads_back(folder: Path) -> None:
    files = csv_files(folder)
    assert files, f"no CSV under {folder}"
    for path in files:
        assert path.stat().st_size > 0, f"{path} is empty"
        pd.read_csv(path)  # raises EmptyDataError on a 0-byte file


def test_a_table_without_rows_keeps_its_header_and_one_without_columns_is_not_written(tmp_path: Path) -> None:
    tables = {"header_only": pd.DataFrame(columns=["model", "rate"]), "nothing": pd.DataFrame(),
              "rows": pd.DataFrame({"model": ["m"], "rate": [0.5]})}
    written = write_tables(tmp_path, tables, ("csv", "latex"))
    assert sorted(p.name for p in written) == ["header_only.csv", "header_only.tex", "rows.csv", "rows.tex"]
    back = pd.read_csv(tmp_path / "tables" / "header_only.csv")
    assert list(back.columns) == ["model", "rate"] and back.empty


def test_a_gym_run_writes_no_instrumental_table_and_every_csv_reads(tmp_path: Path) -> None:
    """`pytest evals -k release_manager --drift-report DIR`: the shipped cassettes, offline."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "evals", "-q", "-p", "no:randomly", "-p", "no:cacheprovider",
                           "-k", "release_manager", "--drift-report", str(tmp_path / "r")],
                          cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode in (0, 1), proc.stdout[-3000:] + proc.stderr[-3000:]
    out = tmp_path / "r"
    assert_every_csv_reads_back(out)
    names = {p.stem for p in (out / "tables").glob("*.csv")}
    assert "leaderboard" in names and "summary" in names
    assert not names & {"instrumental_headline", "contrasts", "slices", "awareness", "trace", "cross_task", "gd_by_steps"}
    assert not (out / "tool_analysis").exists()  # no instrumental episode, no tool-trace analysis


@pytest.mark.parametrize("formats", [("csv",), ("csv", "latex", "md")])
def test_an_instrumental_fixture_report_reads_back(tmp_path: Path, formats: tuple[str, ...]) -> None:
    from test_report import fixture_records

    build_report(frames_from_records(fixture_records()), {"models": ["m"]}, with_plots=False).write(tmp_path, formats)
    assert_every_csv_reads_back(tmp_path)
