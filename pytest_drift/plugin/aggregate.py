"""Aggregation: records gathered in the controller (or the only process), the outcomes
and report written at session end, and the terminal summary."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from ..outcome import Outcome
from ..records import PROPERTY, TRANSCRIPTS, Status, TestRecord, clean_message, write_jsonl
from ..registry import scenario_hashes
from . import baseline
from .catalogue import REGISTRY
from .options import OPTIONS, manifest_options


def _status(report: Any) -> Status | None:
    if getattr(report, "wasxfail", None) is not None:
        return "xfailed" if report.skipped else "xpassed"
    if report.when == "call":
        return "passed" if report.passed else ("skipped" if report.skipped else "failed")
    if report.failed:
        return "error"  # setup/teardown failure, or a crashed worker's report
    if report.skipped and report.when == "setup":
        return "skipped"
    return None


def _message(report: Any) -> str:
    """What a failed test said: the exception's text, else the whole report text, shortened."""
    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or getattr(report, "longreprtext", "") or ""
    return clean_message(text)


class Collector:
    """Fed by pytest_runtest_logreport in the controller (or the only process)."""

    def __init__(self) -> None:
        self.records: dict[str, TestRecord] = {}

    def add_report(self, report: Any) -> None:
        props = dict(getattr(report, "user_properties", []) or [])
        text = props.get(PROPERTY)
        status = _status(report)
        rec = self.records.get(report.nodeid)
        if rec is None:
            if text is None and status is None:
                return
            rec = self.records[report.nodeid] = TestRecord(report.nodeid, status or "passed", None)
        if text is not None and rec.outcome is None:
            rec.outcome = Outcome.from_json(text)
        if status is not None and rec.status != "error":
            rec.status = status
        if status in ("failed", "error", "xfailed") and not rec.message:
            rec.message = _message(report)

    def drift_records(self) -> list[TestRecord]:
        return [r for r in self.records.values() if r.outcome is not None]


class Aggregator:
    """Registered in the controller (or the only process): gathers outcomes, writes, summarises."""

    def __init__(self, config: pytest.Config) -> None:
        self.config, self.collector = config, Collector()
        self.written: list[Path] = []
        self.report_error = ""

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.collector.add_report(report)

    def pytest_sessionfinish(self) -> None:
        options = self.config.stash[OPTIONS]
        if options.update_baseline:
            baseline.update(options.cassette_dir, self.collector.drift_records())
        if options.report:
            records = self.collector.drift_records()
            write_jsonl(records, options.report / "outcomes.jsonl")  # first: nothing is lost if the report fails
            if records:
                try:
                    self.written = self._write_report(records, options.report)
                except Exception as exc:  # noqa: BLE001 - the run's verdicts stand; say why the report is missing
                    self.report_error = f"{type(exc).__name__}: {exc}"

    def _write_report(self, records: list[TestRecord], out: Path) -> list[Path]:
        from ..report import build_report, frames_from_records, manifest_for

        config = self.config
        frames = frames_from_records(records)
        hashes = scenario_hashes(config.stash[REGISTRY], frames.episodes.scenario.unique().tolist()
                                 if not frames.episodes.empty else [])
        manifest = manifest_for(frames, config.rootpath, manifest_options(config),
                                command=["pytest", *config.invocation_params.args], scenario_hashes=hashes)
        return build_report(frames, manifest).write(out)

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        records = self.collector.drift_records()
        if not records:
            return
        from ..report import frames_from_records, summary_text

        terminalreporter.write_sep("=", "pytest-drift summary")
        terminalreporter.write_line(summary_text(frames_from_records(records)))
        out = self.config.stash[OPTIONS].report
        if out:
            terminalreporter.write_line(f"outcomes: {out / 'outcomes.jsonl'}")
            if (out / TRANSCRIPTS).is_file():
                terminalreporter.write_line(f"transcripts: {out / TRANSCRIPTS} (pytest-drift show EPISODE_ID {out})")
            for path in self.written:
                terminalreporter.write_line(f"report: {path}")
            if self.report_error:
                terminalreporter.write_line(f"report not written ({self.report_error}); re-render it with: "
                                            f"pytest-drift report {out / 'outcomes.jsonl'} -o {out}", red=True)


AGGREGATOR = pytest.StashKey[Aggregator]()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or the only process) aggregates
        aggregator = config.stash[AGGREGATOR] = Aggregator(config)
        config.pluginmanager.register(aggregator, "drift-aggregator")


def pytest_unconfigure(config: pytest.Config) -> None:
    aggregator = config.stash.get(AGGREGATOR, None)
    if aggregator is not None:
        config.pluginmanager.unregister(aggregator)
        del config.stash[AGGREGATOR]
