"""Reading records back: junit XML (junit_family=legacy) and outcomes.jsonl, shards merged."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Iterable

from ..outcome import Outcome
from ..records import PROPERTY, Status, TestRecord, clean_message, read_jsonl


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
        out.append(TestRecord(f"{classname}::{name}", _junit_status(case), Outcome.from_json(text),
                              _junit_message(case)))
    return out


def _junit_message(case: ET.Element) -> str:
    """A failure's, error's or xfail's message attribute (its text when there is none)."""
    for tag in ("failure", "error", "skipped"):  # skipped: an xfail's reason
        el = case.find(tag)
        if el is not None and (tag != "skipped" or el.get("type") == "pytest.xfail"):
            return clean_message(el.get("message") or el.text or "")
    return ""


def load_records(paths: Iterable[Path]) -> list[TestRecord]:
    """Merge records from .jsonl and junit .xml files (e.g. CI shards)."""
    records: list[TestRecord] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        records.extend(read_jsonl(path) if path.suffix == ".jsonl" else read_junit(path))
    return records
