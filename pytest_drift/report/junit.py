"""Reading records back: junit XML (junit_family=legacy) and outcomes.jsonl, shards merged.

A session writes into junit what a report needs beside each outcome (records.NODEID_PROPERTY,
MESSAGE_PROPERTY) and its manifest (MANIFEST_PROPERTY), so the report rendered from junit is
the session's own. Files written before those properties existed still read: the node id is
then rebuilt from junit's dotted class name, the message taken from the failure element."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any, Iterable

from ..outcome import Outcome
from ..records import (MANIFEST_PROPERTY, MESSAGE_PROPERTY, NODEID_PROPERTY, PROPERTY, Status, TestRecord,
                       clean_message, read_jsonl)


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


def _properties(case: ET.Element) -> dict[str, str]:
    """A test case's own properties (the first value of a name wins, as in the session)."""
    props = case.find("properties")
    out: dict[str, str] = {}
    for p in props.iter("property") if props is not None else ():
        out.setdefault(p.get("name", ""), p.get("value", ""))
    return out


def dotted_nodeid(classname: str, name: str) -> str:
    """A node id from junit's dotted class name, for files without the node id property:
    `evals.test_gym` -> `evals/test_gym.py::name`; a test class (a capitalised last part, by
    Python's naming custom) stays a `::` part."""
    parts = classname.split(".") if classname else []
    classes: list[str] = []
    while parts and parts[-1][:1].isupper():
        classes.insert(0, parts.pop())
    path = "/".join(parts) + ".py" if parts else ""
    return "::".join([p for p in (path, *classes) if p] + [name])


def read_junit(path: Path) -> list[TestRecord]:
    """Records from a junit XML file written with junit_family=legacy."""
    out: list[TestRecord] = []
    for case in ET.parse(path).getroot().iter("testcase"):
        props = _properties(case)
        text = props.get(PROPERTY)
        if text is None:
            continue
        nodeid = props.get(NODEID_PROPERTY) or dotted_nodeid(case.get("classname", ""), case.get("name", ""))
        status = _junit_status(case)
        message = props.get(MESSAGE_PROPERTY) or _junit_message(case)
        out.append(TestRecord(nodeid, status, Outcome.from_json(text), message if status != "passed" else ""))
    return out


def _junit_message(case: ET.Element) -> str:
    """A failure's, error's or xfail's message attribute (its text when there is none)."""
    for tag in ("failure", "error", "skipped"):  # skipped: an xfail's reason
        el = case.find(tag)
        if el is not None and (tag != "skipped" or el.get("type") == "pytest.xfail"):
            return clean_message(el.get("message") or el.text or "")
    return ""


def junit_manifests(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """The session manifests recorded in junit files (one per file that has one)."""
    out = []
    for path in paths:
        if path.suffix != ".xml":
            continue
        for prop in ET.parse(path).getroot().iter("property"):
            if prop.get("name") == MANIFEST_PROPERTY:
                try:
                    out.append(json.loads(prop.get("value", "")))
                except ValueError:
                    continue
                break
    return out


def merge_manifests(manifests: list[dict[str, Any]]) -> dict[str, Any]:
    """One manifest from the shards' own: mappings merged key by key, lists united, a value
    the shards disagree on (a shard's command, its --drift-shard) kept as the sorted list of
    their values."""
    if not manifests:
        return {}
    merged: Any = manifests[0]
    for other in manifests[1:]:
        merged = _merge(merged, other)
    return dict(merged)


def _merge(a: Any, b: Any) -> Any:
    if isinstance(a, dict) and isinstance(b, dict):
        return {k: _merge(a[k], b[k]) if k in a and k in b else a.get(k, b.get(k)) for k in sorted({*a, *b})}
    if isinstance(a, list) and isinstance(b, list):
        return sorted({json.dumps(x, sort_keys=True): x for x in [*a, *b]}.values(), key=str)
    if a == b:
        return a
    values = a if isinstance(a, _Disagreement) else _Disagreement([a])
    return _Disagreement(sorted({*map(str, values), str(b)}))


class _Disagreement(list):  # type: ignore[type-arg]  # a list of anything, marked as a disagreement
    """The values shards gave one manifest field (kept apart from a field that is a list)."""


def load_records(paths: Iterable[Path]) -> list[TestRecord]:
    """Merge records from .jsonl and junit .xml files (e.g. CI shards)."""
    records: list[TestRecord] = []
    for path in paths:
        if not path.exists():
            raise FileNotFoundError(f"no such file: {path}")
        records.extend(read_jsonl(path) if path.suffix == ".jsonl" else read_junit(path))
    return records
