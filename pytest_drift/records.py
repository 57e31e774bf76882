"""Test records: one test's verdict with its episode's Outcome, as JSON lines.

The plugin gathers them (also from xdist workers), the report reads them back
(`report.junit` reads the same records from junit XML)."""

from __future__ import annotations

import json
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


def write_jsonl(records: Iterable[TestRecord], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(r.to_json() + "\n" for r in sorted(records, key=lambda r: r.nodeid)))
    tmp.replace(path)


def read_jsonl(path: Path) -> list[TestRecord]:
    return [TestRecord.from_json(line) for line in path.read_text().splitlines() if line.strip()]
