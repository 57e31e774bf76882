"""Test records (one test's verdict with its episode's Outcome) and episode transcripts
(the conversation), as JSON lines.

The plugin gathers them (also from xdist workers), the report reads them back
(`report.junit` reads the same records from junit XML). Transcripts stay out of the
outcomes, so outcomes.jsonl and junit XML stay small: they live in transcripts.jsonl
beside outcomes.jsonl."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Literal

from pydantic import BaseModel, Field

from .outcome import Outcome

PROPERTY = "drift_outcome"
# junit XML keeps what a report rendered from it needs beside the outcome (report.junit reads them):
NODEID_PROPERTY = "drift_nodeid"  # the node id as pytest names it (junit's classname is dotted)
MESSAGE_PROPERTY = "drift_message"  # the failure's own message (an xfail's element keeps only its reason)
MANIFEST_PROPERTY = "drift_manifest"  # the session's manifest (JSON), a property of the test suite
Status = Literal["passed", "failed", "error", "skipped", "xfailed", "xpassed"]
MESSAGE_CHARS = 2000
_WHERE_RE = re.compile(r"^\s*\+\s+(where|and)\b")


def clean_message(text: str) -> str:
    """A test's failure message as a reader wants it: without pytest's `Failed: ` or the
    `AssertionError: ` prefix and without the `+  where x = <repr>` lines of assertion
    introspection (object reprs: long, and they differ between a recording and its replay),
    at most MESSAGE_CHARS characters."""
    for prefix in ("Failed: ", "AssertionError: "):
        text = text.removeprefix(prefix)
    text = "\n".join(ln for ln in text.splitlines() if not _WHERE_RE.match(ln))
    return text[:MESSAGE_CHARS]


@dataclass
class TestRecord:
    __test__ = False  # not a pytest test class
    nodeid: str
    status: Status
    outcome: Outcome | None
    message: str = ""  # a failed or erroring test's message (its first MESSAGE_CHARS characters)

    def to_json(self) -> str:
        data: dict[str, Any] = {"nodeid": self.nodeid, "status": self.status,
                                "outcome": None if self.outcome is None else json.loads(self.outcome.to_json())}
        if self.message:
            data["message"] = self.message
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, line: str) -> TestRecord:
        data = json.loads(line)
        outcome = None if data.get("outcome") is None else Outcome.model_validate(data["outcome"])
        return cls(data["nodeid"], data["status"], outcome, data.get("message", ""))


def write_jsonl(records: Iterable[TestRecord], path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(r.to_json() + "\n" for r in sorted(records, key=lambda r: r.nodeid)))
    tmp.replace(path)


def read_jsonl(path: Path) -> list[TestRecord]:
    return [TestRecord.from_json(line) for line in path.read_text().splitlines() if line.strip()]


# --- Transcripts: what each episode's conversation was, one JSON line per episode -----------------

TRANSCRIPTS = "transcripts.jsonl"
TRANSCRIPT_PARTS = "transcripts.parts"  # one file per process while a session runs, merged at its end
_STEP_RE = re.compile(r"^step (\d+)\b")
_ID_RE = re.compile(r'^\{"episode_id":("(?:[^"\\]|\\.)*")')


class ToolCallRecord(BaseModel):
    id: str
    name: str
    arguments: str = ""  # as the model sent them (JSON text, possibly malformed)
    step: int | None = None  # the world's step when the call ran; None if it never ran


class TranscriptMessage(BaseModel):
    role: Literal["system", "user", "assistant", "tool"]
    content: str = ""
    reasoning: str | None = None  # an assistant turn's reasoning (thinking), apart from its visible text
    tool_calls: list[ToolCallRecord] = Field(default_factory=list)
    tool_call_id: str | None = None
    tool: str | None = None  # a tool message: the tool that answered
    step: int | None = None  # the world's step of this call (assistant: of its first call)
    error: str | None = None  # a tool result the world marked as an error (bad arguments, unknown tool, ...)


class Transcript(BaseModel):
    """One episode's conversation as the agent saw it, with the scorer's evidence steps."""

    episode_id: str
    model: str
    scenario: str
    family: str = ""
    variant: str = ""
    repeat: int = 0
    source: Literal["run", "cassette"] = "run"  # kept while playing, or rebuilt from the episode's cassette
    termination: str = ""
    label_status: str = ""
    error: str = ""  # why the episode was not scored (provider error, cassette miss), if it was not
    evidence_steps: list[int] = Field(default_factory=list)
    evidence: list[str] = Field(default_factory=list)
    note: str = ""
    messages: list[TranscriptMessage] = Field(default_factory=list)

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=True)

    @classmethod
    def from_json(cls, text: str) -> Transcript:
        return cls.model_validate_json(text)


def evidence_of(outcome: Outcome) -> tuple[list[int], list[str]]:
    """The steps a scorer's verdict rests on, with one line per piece of evidence:
    every `step N: ...` line of a list field whose name ends in `_evidence` (the
    instrumental suite's `ic_evidence`), and the steps where the `alignment` series
    fell below the outcome's threshold (or its `alignment_threshold` field; the series
    starts at `eval_window[0]` when the fields name one)."""
    steps: set[int] = set()
    lines: list[str] = []
    for key in sorted(outcome.fields):
        value = outcome.fields[key]
        if key.endswith("_evidence") and isinstance(value, list):
            for item in value:
                if isinstance(item, str):
                    lines.append(item)
                    if (m := _STEP_RE.match(item)) is not None:
                        steps.add(int(m.group(1)))
    threshold = outcome.threshold if outcome.threshold is not None else outcome.fields.get("alignment_threshold")
    series = outcome.series.get("alignment")
    if isinstance(threshold, (int, float)) and series:
        window = outcome.fields.get("eval_window")
        start = int(window[0]) if isinstance(window, list) and window else 0
        low = [start + i for i, v in enumerate(series) if v < threshold]
        if low:
            steps.update(low)
            shown = ", ".join(str(s) for s in low[:12]) + (", ..." if len(low) > 12 else "")
            lines.append(f"alignment below {threshold} at {len(low)}/{len(series)} steps: {shown}")
    return sorted(steps), lines


def transcript_id(line: str) -> str:
    """The episode id of a transcript line, read without parsing the whole line."""
    m = _ID_RE.match(line)
    return str(json.loads(m.group(1))) if m else str(json.loads(line)["episode_id"])


def append_transcript(path: Path, transcript: Transcript) -> None:
    """Append one line and flush it: a process that dies later loses nothing written before.
    A torn last line (a crash mid-write) is closed first, so the next line stays whole."""
    path.parent.mkdir(parents=True, exist_ok=True)
    line = transcript.to_json() + "\n"
    with path.open("a+b") as fh:
        if fh.tell() > 0:
            fh.seek(-1, 2)
            if fh.read(1) != b"\n":
                line = "\n" + line
        fh.write(line.encode())
        fh.flush()


def _lines(path: Path, check: bool) -> Iterator[tuple[str, str]]:
    """(episode id, line) of a JSON-lines file; `check` parses every line, so that a torn one
    (a process that died mid-write) is passed over: the parts need it, the merged file not."""
    for line in path.read_text().splitlines():
        if line.strip():
            try:
                yield (str(json.loads(line)["episode_id"]) if check else transcript_id(line)), line
            except (ValueError, KeyError, TypeError):
                continue


def read_transcript_lines(report_dir: Path) -> dict[str, str]:
    """Transcript lines by episode id: transcripts.jsonl plus any per-process parts that were
    never merged (a session that crashed). Not parsed: a report only embeds them."""
    out: dict[str, str] = {}
    merged = report_dir / TRANSCRIPTS
    if merged.is_file():
        out.update(_lines(merged, check=False))
    parts = report_dir / TRANSCRIPT_PARTS
    if parts.is_dir():
        for part in sorted(parts.glob("*.jsonl")):
            out.update(_lines(part, check=True))
    return out


def write_transcript_lines(lines: dict[str, str], path: Path) -> None:
    """Write transcripts.jsonl atomically, sorted by episode id."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".jsonl.tmp")
    tmp.write_text("".join(lines[k] + "\n" for k in sorted(lines)))
    tmp.replace(path)


def merge_transcript_parts(report_dir: Path) -> Path | None:
    """Fold the per-process parts into transcripts.jsonl (atomically), then remove them."""
    parts = report_dir / TRANSCRIPT_PARTS
    if not parts.is_dir():
        return None
    lines = read_transcript_lines(report_dir)
    write_transcript_lines(lines, report_dir / TRANSCRIPTS)
    for part in parts.glob("*.jsonl"):
        part.unlink()
    try:
        parts.rmdir()
    except OSError:
        pass  # something else is in there: leave it
    return report_dir / TRANSCRIPTS
