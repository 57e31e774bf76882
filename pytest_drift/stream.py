"""The outcome stream: test records gathered from pytest reports (also from xdist
workers), written as JSON lines, and read back from JSON lines or junit XML."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Literal

from .outcome import Outcome

PROPERTY = "drift_outcome"
Status = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]


@dataclass
class TestRecord:
    __test__ = False  # not a pytest test class
    nodeid: str
    status: Status
    outcome: Outcome | None

    def to_json(self) -> str:
        data: dict[str, Any] = {"nodeid": self.nodeid, "status": self.status,
                                "outcome": None if self.outcome is None else json.loads(self.outcome.to_json())}
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> TestRecord:
        data = json.loads(line)
        outcome = None if data.get("outcome") is None else Outcome.model_validate(data["outcome"])
        return cls(data["nodeid"], data["status"], outcome)


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

    def drift_records(self) -> list[TestRecord]:
        return [r for r in self.records.values() if r.outcome is not None]


def write_jsonl(records: Iterable[TestRecord], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(r.to_json() + "\n" for r in sorted(records, key=lambda r: r.nodeid)))
    tmp.replace(path)


def read_jsonl(path: Path) -> list[TestRecord]:
    return [TestRecord.from_json(line) for line in path.read_text().splitlines() if line.strip()]


def _junit_status(case: ET.Element) -> Status:
    tags = {child.tag for child in case}
    if "error" in tags:
        return "error"
    if "failure" in tags:
        return "failed"
    skipped = case.find("skipped")
    if skipped is not None:
        return "xfailed" if skipped.get("type") == "pytest.xfail" else "skipped"
    return "passed"


def read_junit(path: Path) -> list[TestRecord]:
    """Records from a junit XML file written with junit_family=legacy."""
    out: list[TestRecord] = []
    for case in ET.parse(path).getroot().iter("testcase"):
        text = next((p.get("value") for p in case.iter("property") if p.get("name") == PROPERTY), None)
        if text is None:
            continue
        classname, name = case.get("classname", ""), case.get("name", "")
        out.append(TestRecord(f"{classname}::{name}", _junit_status(case), Outcome.from_json(text)))
    return out


def load_records(paths: Iterable[Path]) -> list[TestRecord]:
    """Merge records from .jsonl and junit .xml files (e.g. CI shards)."""
    records: list[TestRecord] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        records.extend(read_jsonl(path) if path.suffix == ".jsonl" else read_junit(path))
    return records
