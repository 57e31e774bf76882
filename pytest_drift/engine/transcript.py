"""Transcripts: an episode's conversation as a `records.Transcript`, from the messages the
loop kept (`transcript_of_played`) or rebuilt from its cassette (`transcript_from_cassette`).

Each tool call gets the world's step it ran at: the loop's trace lists the calls the world
ran, in order, so the k-th tool result that was not skipped belongs to the k-th trace entry.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterator

from ..models.recorded import last_exchange
from ..models.wire import canonical_messages, reasoning_of, reply_messages, request_messages
from ..outcome import Outcome, TraceEntry
from ..records import TestRecord, ToolCallRecord, Transcript, TranscriptMessage, evidence_of, read_transcript_lines
from ..world import Message
from .loop import SKIPPED_NOTE
from .play import Played


def _text(content: Any) -> str:
    if content is None or isinstance(content, str):
        return content or ""
    if isinstance(content, list):
        return "".join(p.get("text", "") if isinstance(p, dict) else str(p) for p in content)
    return str(content)


class _Steps:
    """Hands out trace entries in order; gives up (None) once a tool name disagrees."""

    def __init__(self, trace: list[TraceEntry]) -> None:
        self._it: Iterator[TraceEntry] = iter(trace)
        self.lost = False

    def next_for(self, tool: str | None) -> TraceEntry | None:
        if self.lost:
            return None
        entry = next(self._it, None)
        if entry is None or entry.tool != tool:
            self.lost = True
            return None
        return entry

    def rest(self) -> list[TraceEntry]:
        return [] if self.lost else list(self._it)


def conversation(messages: list[Message], trace: list[TraceEntry]) -> list[TranscriptMessage]:
    """Chat messages (OpenAI format) as transcript messages, each call with its world step."""
    steps = _Steps(trace)
    calls: dict[str, ToolCallRecord] = {}
    out: list[TranscriptMessage] = []
    for m in messages:
        role = m.get("role")
        if role == "assistant":
            recs = [ToolCallRecord(id=str(c.get("id")), name=str((c.get("function") or {}).get("name", "")),
                                   arguments=str((c.get("function") or {}).get("arguments") or ""))
                    for c in m.get("tool_calls") or []]
            calls.update((r.id, r) for r in recs)
            out.append(TranscriptMessage(role="assistant", content=_text(m.get("content")), tool_calls=recs,
                                         reasoning=reasoning_of(m)))
        elif role == "tool":
            call_id = str(m.get("tool_call_id"))
            call = calls.get(call_id)
            content = _text(m.get("content"))
            msg = TranscriptMessage(role="tool", content=content, tool_call_id=call_id,
                                    tool=call.name if call else None)
            if content != SKIPPED_NOTE:
                entry = steps.next_for(call.name if call else None)
                if entry is not None:
                    msg.step, msg.error = entry.step, entry.error
                    if call is not None:
                        call.step = entry.step
            out.append(msg)
        else:
            out.append(TranscriptMessage(role="system" if role in ("system", "developer") else "user",
                                         content=_text(m.get("content"))))
    _last_reply_steps(out, steps.rest())
    for msg in out:
        if msg.tool_calls:
            msg.step = next((c.step for c in msg.tool_calls if c.step is not None), None)
    return out


def _last_reply_steps(out: list[TranscriptMessage], rest: list[TraceEntry]) -> None:
    """Calls of the last reply whose results were not kept (a conversation rebuilt from a
    cassette ends with the model's reply) take the trace entries left over."""
    if not rest or not out or out[-1].role != "assistant":
        return
    for call, entry in zip(out[-1].tool_calls, rest):
        if call.name != entry.tool:
            return
        call.step = entry.step


def transcript_of(outcome: Outcome, messages: list[Message], trace: list[TraceEntry] | None = None,
                  source: str = "run", error: str = "", note: str = "") -> Transcript:
    steps, lines = evidence_of(outcome)
    return Transcript(
        episode_id=outcome.episode_id, model=outcome.model, scenario=outcome.scenario, family=outcome.family,
        variant=outcome.variant, repeat=outcome.repeat, source=source,  # type: ignore[arg-type]  # a str checked by pydantic against the Literal
        termination=outcome.termination, label_status=outcome.label_status, error=error,
        evidence_steps=steps, evidence=lines, note="; ".join(n for n in (outcome.fork_note(), note) if n),
        messages=conversation(messages, outcome.trace if trace is None else trace),
    )


def transcript_of_played(played: Played, miss_message: str = "") -> Transcript:
    """The transcript of a played case: the loop's messages (none after a cassette miss)."""
    o, result = played.outcome, played.result
    error = miss_message or (o.label_reason if o.label_status != "ok" else "")
    if result is None:
        return transcript_of(o, [], [], error=error)
    return transcript_of(o, result.messages, result.trace, error=error or result.error)


def transcript_from_cassette(outcome: Outcome, root: Path = Path(".")) -> Transcript | None:
    """Rebuild an episode's conversation from its cassette (the outcome's provenance names it,
    relative to the project root): the last request with tools holds the conversation so far,
    its recorded response the model's last reply. None when the outcome names no cassette
    (a scripted policy) or the cassette is not there."""
    name = outcome.provenance.get("cassette")
    if not name:
        return None
    path = Path(name) if Path(name).is_absolute() else root / name
    if not path.is_file():
        return None
    exchange = last_exchange(path)
    if exchange is None:
        return transcript_of(outcome, [], source="cassette", error=outcome.label_reason,
                             note=f"{name} holds no request with tools")
    request, response = exchange
    try:
        messages = canonical_messages(request_messages(request) + reply_messages(response))
    except (ValueError, KeyError, TypeError) as exc:
        return transcript_of(outcome, [], source="cassette", note=f"{name}: conversation not readable ({exc})")
    note = f"rebuilt from {name}; the results of the last reply's calls are not recorded there"
    error = outcome.label_reason if outcome.label_status != "ok" else str(outcome.provenance.get("error", ""))
    return transcript_of(outcome, messages, source="cassette", error=error, note=note)


def collect_transcripts(records: list[TestRecord], sources: list[Path],
                        root: Path = Path(".")) -> tuple[dict[str, str], dict[str, int]]:
    """Transcript lines for the episodes of `records`, for a report made from files: those
    kept beside each given outcomes.jsonl first, then, for episodes still without one, the
    conversation rebuilt from the episode's cassette (paths relative to `root`). Returns the
    lines by episode id and how many were kept, rebuilt, and missing (scripted policies are
    never recorded)."""
    wanted = {r.outcome.episode_id: r.outcome for r in records if r.outcome is not None}
    lines: dict[str, str] = {}
    for src in sources:
        if src.suffix == ".jsonl":
            lines.update((k, v) for k, v in read_transcript_lines(src.parent).items() if k in wanted)
    counts = {"kept": len(lines), "rebuilt": 0, "missing": 0}
    for episode_id, outcome in sorted(wanted.items()):
        if episode_id in lines:
            continue
        t = transcript_from_cassette(outcome, root)
        if t is None:
            counts["missing"] += 1
        else:
            lines[episode_id] = t.to_json()
            counts["rebuilt"] += 1
    return lines, counts
