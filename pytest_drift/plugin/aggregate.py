"""Aggregation: records gathered in the controller (or the only process), the outcomes
and report written at session end, and the terminal summary."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from . import baseline
from .catalogue import REGISTRY
from .options import OPTIONS, manifest_options, plain_nodeid

if TYPE_CHECKING:  # records and outcome (pydantic) are imported once a drift test reports
    from ..outcome import Outcome
    from ..records import Status, TestRecord


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
    from ..records import clean_message

    crash = getattr(report.longrepr, "reprcrash", None)
    text = getattr(crash, "message", None) or getattr(report, "longreprtext", "") or ""
    return clean_message(text)


class Collector:
    """Fed by pytest_runtest_logreport in the controller (or the only process)."""

    def __init__(self) -> None:
        self.records: dict[str, TestRecord] = {}

    def add_report(self, report: Any) -> None:
        if not getattr(report, "user_properties", None) and report.nodeid not in self.records:
            return  # not a drift test: a drift test's reports carry its outcome from setup on
        from ..outcome import Outcome
        from ..records import PROPERTY, TestRecord

        props = dict(getattr(report, "user_properties", []) or [])
        text = props.get(PROPERTY)
        status = _status(report)
        rec = self.records.get(report.nodeid)
        if rec is None:
            if text is None and status is None:
                return
            rec = self.records[report.nodeid] = TestRecord(plain_nodeid(report.nodeid), status or "passed", None)
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
        self.references_note = ""
        self.claim_lines: list[str] = []  # the report's claim gate, as the summary says it
        self.background: Any = None  # the reference agents' thread (one process), from the first outcome on
        self.worker_references: list[str] = []  # what each xdist worker played (references.WorkerReferences)

    def _feed_references(self, outcome: Outcome) -> None:
        """In a single process the reference agents play each new world on a thread as the run's
        outcomes arrive; under xdist each worker plays its own worlds at its end."""
        if not _wants_references(self.config) or _distributed(self.config):
            return
        if self.background is None:
            from ..engine.references import BackgroundReferences

            self.background = BackgroundReferences(_player(self.config))
        self.background.add(outcome)

    @pytest.hookimpl(optionalhook=True)  # xdist's: a worker is done, with what it handed over
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        from .references import WORKER_OUTPUT

        text = getattr(node, "workeroutput", {}).get(WORKER_OUTPUT)
        if text:
            self.worker_references.append(text)

    @pytest.hookimpl(tryfirst=True)  # before junitxml finalises the test case: its properties go with it
    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        rec = self.collector.records.get(report.nodeid)
        had = rec is not None and rec.outcome is not None
        self.collector.add_report(report)
        rec = self.collector.records.get(report.nodeid)
        if not had and rec is not None and rec.outcome is not None:
            self._feed_references(rec.outcome)
        if report.when == "teardown":
            self._junit_properties(report)

    def _junit_properties(self, report: pytest.TestReport) -> None:
        """What a report rendered from junit needs and junit does not keep: the node id as pytest
        names it (junit has a dotted class name) and the failure's own message (an xfail keeps
        only its reason: 'recorded verdict ...'). Added to the teardown report, whose properties
        junitxml writes into the test case."""
        rec = self.collector.records.get(report.nodeid)
        if rec is None or rec.outcome is None:
            return
        from ..records import MESSAGE_PROPERTY, NODEID_PROPERTY

        report.user_properties.append((NODEID_PROPERTY, rec.nodeid))
        if rec.message:
            report.user_properties.append((MESSAGE_PROPERTY, rec.message))

    @pytest.hookimpl(tryfirst=True)  # before junitxml writes its file: the manifest goes into it
    def pytest_sessionfinish(self) -> None:
        options = self.config.stash[OPTIONS]
        if options.update_baseline:
            baseline.update(options.cassette_dir, self.collector.drift_records())
        records = self.collector.drift_records()
        if not records and not options.report:
            return
        from ..records import MANIFEST_PROPERTY, write_jsonl

        if not records or not (options.report or _junit(self.config)):
            if options.report:
                write_jsonl(records, options.report / "outcomes.jsonl")
            return
        from ..report import frames_from_records

        manifest = self._manifest(frames_from_records(records))
        junit = _junit(self.config)
        if junit is not None:  # the session's manifest, for `pytest-drift report junit.xml`
            junit.add_global_property(MANIFEST_PROPERTY, json.dumps(manifest, sort_keys=True, default=str))
        if options.report:
            write_jsonl(records, options.report / "outcomes.jsonl")  # first: nothing is lost if the report fails
            try:
                self.written = self._write_report(records, options.report, manifest)
            except Exception as exc:
                self.report_error = f"{type(exc).__name__}: {exc}"

    def _manifest(self, frames: Any) -> dict[str, Any]:
        from ..report import manifest_for

        from ..registry import scenario_hashes

        config = self.config
        hashes = scenario_hashes(config.stash[REGISTRY], frames.episodes.scenario.unique().tolist()
                                 if not frames.episodes.empty else [])
        return manifest_for(frames, config.rootpath, manifest_options(config),
                            command=["pytest", *config.invocation_params.args], scenario_hashes=hashes)

    def _references(self, records: list[TestRecord]) -> list[Outcome]:
        """The reference agents on the run's worlds (engine.references), unless declined: from
        the xdist workers (any world none of them covered played here), or the thread's."""
        if not _wants_references(self.config):
            return []
        from ..engine.references import from_workers

        run = [r.outcome for r in records if r.outcome is not None]
        if self.background is not None:
            refs = self.background.finish(run)
        else:
            refs = from_workers(self.worker_references, run, _player(self.config))
        self.references_note = refs.summary()
        outcomes: list[Outcome] = refs.outcomes
        return outcomes

    def _write_report(self, records: list[TestRecord], out: Path, manifest: dict[str, Any]) -> list[Path]:
        from ..report import build_report, frames_from_records

        frames = frames_from_records(records, self._references(records))
        report = build_report(frames, manifest)
        claim = report.claim
        self.claim_lines = ["claim-ready"] if claim.ready else \
            ["not claim-ready (report.json claim):", *(f"  - {r}" for r in claim.blocking)]
        return report.write(out)

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
            from ..records import TRANSCRIPTS

            if (out / TRANSCRIPTS).is_file():
                terminalreporter.write_line(f"transcripts: {out / TRANSCRIPTS} (pytest-drift show EPISODE_ID {out})")
            if self.references_note:
                terminalreporter.write_line(f"references: {self.references_note} (--drift-no-references skips them)")
            from ..report.render import written_lines

            for line in written_lines(self.written):
                terminalreporter.write_line(f"report: {line}")
            for line in self.claim_lines:
                terminalreporter.write_line(line, yellow=line != "claim-ready")
            if self.report_error:
                terminalreporter.write_line(f"report not written ({self.report_error}); re-render it with: "
                                            f"pytest-drift report {out / 'outcomes.jsonl'} -o {out}", red=True)


def _junit(config: pytest.Config) -> Any:
    """The session's junit XML writer (pytest's own `--junitxml`), or None."""
    try:
        from _pytest.junitxml import xml_key
    except ImportError:  # pragma: no cover - a pytest without it: junit keeps no manifest
        return None
    return config.stash.get(xml_key, None)


def _wants_references(config: pytest.Config) -> bool:
    """A report will be written and the reference agents were not declined."""
    options = config.stash[OPTIONS]
    return bool(options.report) and not options.no_references


def _distributed(config: pytest.Config) -> bool:
    """xdist runs the tests in workers (-n N with N > 0)."""
    return getattr(config.option, "dist", "no") != "no" and bool(getattr(config.option, "numprocesses", 0))


def _player(config: pytest.Config) -> Any:
    from ..engine.references import ReferencePlayer, reference_settings

    options = config.stash[OPTIONS]
    return ReferencePlayer(config.stash[REGISTRY], reference_settings(options.cassette_dir, options.seed))


AGGREGATOR = pytest.StashKey[Aggregator]()


def pytest_configure(config: pytest.Config) -> None:
    if not hasattr(config, "workerinput"):  # the controller (or the only process) aggregates
        aggregator = config.stash[AGGREGATOR] = Aggregator(config)
        config.pluginmanager.register(aggregator, "drift-aggregator")
    elif _wants_references(config):  # a worker plays the references of its own worlds at its end
        from .references import WorkerReferences

        config.pluginmanager.register(WorkerReferences(config, lambda: _player(config)), "drift-worker-references")


def pytest_unconfigure(config: pytest.Config) -> None:
    aggregator = config.stash.get(AGGREGATOR, None)
    if aggregator is not None:
        config.pluginmanager.unregister(aggregator)
        del config.stash[AGGREGATOR]
