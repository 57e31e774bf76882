"""Export to Inspect AI logs (`.eval`), written and typed through `inspect_ai.log`, so that
`inspect view LOGS/` shows a pytest-drift run in Inspect's log viewer.

One log per (model, scenario); one sample per episode: the sample id is the variant and
the epoch is the repeat + 1 (Inspect counts epochs from 1), so the repeats of a variant
line up as epochs. A sample holds the episode's conversation (messages, a model event per
reply and a tool event per call), one score per test of the episode (C = passed,
I = failed) and the headline metric, the outcome's metrics, factors and evidence as
metadata, token usage (reasoning tokens included) where the outcome carries it, and the
reason when it was not scored. An assistant turn's reasoning is Inspect's `ContentReasoning`,
before the turn's text.
`inspect_ai` is optional: `pip install 'pytest-drift[inspect]'`.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, UTC
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterable

from ..records import TestRecord, Transcript, TranscriptMessage
from ..version import __version__

if TYPE_CHECKING:
    from inspect_ai.log import EvalLog, EvalSample

PASSED, FAILED = "C", "I"  # Inspect's own values for a correct / incorrect answer


def _id(*parts: str) -> str:
    """A stable id (the same export twice gives the same ids)."""
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:22]


def _slug(text: str) -> str:
    """A file-name part without `_`: Inspect reads a log's name as <time>_<task>_<id>.eval."""
    return re.sub(r"[^A-Za-z0-9.-]+", "-", text).strip("-")


def _test_name(nodeid: str) -> str:
    """`evals/test_gym.py::test_holds_alignment[...]` -> `test_holds_alignment`."""
    return nodeid.rpartition("::")[2].partition("[")[0]


def _messages(t: Transcript | None, episode: str) -> list[Any]:
    from inspect_ai.model import ChatMessageAssistant, ChatMessageSystem, ChatMessageTool, ChatMessageUser
    from inspect_ai.tool import ToolCall, ToolCallError

    out: list[Any] = []
    if t is None:
        return out
    for i, m in enumerate(t.messages):
        mid = _id(episode, str(i))
        if m.role == "system":
            out.append(ChatMessageSystem(id=mid, content=m.content))
        elif m.role == "user":
            out.append(ChatMessageUser(id=mid, content=m.content))
        elif m.role == "assistant":
            calls = [ToolCall(id=c.id, function=c.name, arguments=args, parse_error=problem)
                     for c in m.tool_calls for args, problem in [_arguments(c.arguments)]]
            out.append(ChatMessageAssistant(id=mid, content=_assistant_content(m), tool_calls=calls or None,
                                            model=t.model, metadata={"step": m.step} if m.step is not None else None))
        else:
            error = ToolCallError("parsing" if m.error == "bad_arguments" else "unknown", m.error) if m.error else None
            out.append(ChatMessageTool(id=mid, content=m.content, tool_call_id=m.tool_call_id, function=m.tool,
                                       error=error, metadata={"step": m.step} if m.step is not None else None))
    return out


def _assistant_content(m: TranscriptMessage) -> Any:
    """The reply's text; with reasoning, Inspect's own reasoning content first (its viewer
    shows it folded, apart from the text), then the text."""
    if not m.reasoning:
        return m.content
    from inspect_ai.model import ContentReasoning, ContentText

    return [ContentReasoning(reasoning=m.reasoning), *([ContentText(text=m.content)] if m.content else [])]


def _arguments(text: str) -> tuple[dict[str, Any], str | None]:
    if not text:
        return {}, None
    try:
        value = json.loads(text)
    except ValueError as exc:
        return {"raw": text}, f"arguments are not JSON: {exc}"
    return (value, None) if isinstance(value, dict) else ({"value": value}, None)


def _events(t: Transcript | None, messages: list[Any], error: str) -> list[Any]:
    """A model event per assistant reply (its input: the conversation before it), a tool event
    per tool result, the evidence as an info event, the reason it was not scored as an error."""
    from inspect_ai._util.error import EvalError
    from inspect_ai.event import ErrorEvent, InfoEvent, ModelEvent, ToolEvent
    from inspect_ai.model import GenerateConfig, ModelOutput
    from inspect_ai.tool import ToolCallError

    events: list[Any] = []
    if t is None:
        return events
    calls: dict[str, Any] = {}
    for i, (m, msg) in enumerate(zip(t.messages, messages)):
        if m.role == "assistant":
            events.append(ModelEvent(model=t.model, input=messages[:i], tools=[], tool_choice="auto",
                                     config=GenerateConfig(), output=ModelOutput.from_message(msg)))
            calls.update((c.id, c) for c in m.tool_calls)
        elif m.role == "tool":
            call = calls.get(m.tool_call_id or "")
            args = _arguments(call.arguments)[0] if call else {}
            events.append(ToolEvent(id=m.tool_call_id or "", function=m.tool or "", arguments=args, result=m.content,
                                    error=ToolCallError("unknown", m.error) if m.error else None,
                                    metadata={"step": m.step} if m.step is not None else None))
    if t.evidence:
        evidence: dict[str, Any] = {"steps": t.evidence_steps, "evidence": t.evidence}  # JSON values
        events.append(InfoEvent(source="pytest-drift evidence", data=evidence))
    if error:
        events.append(ErrorEvent(error=EvalError(message=error, traceback="", traceback_ansi="")))
    return events


def _usage(outcome: Any) -> dict[str, Any]:
    from inspect_ai.model import ModelUsage

    usage = getattr(outcome, "usage", None)
    data = usage.as_dict() if usage is not None and hasattr(usage, "as_dict") else usage if isinstance(usage, dict) else None
    if not data or data.get("total_tokens") is None:
        return {}
    return {outcome.model: ModelUsage(input_tokens=int(data.get("prompt_tokens") or 0),
                                      output_tokens=int(data.get("completion_tokens") or 0),
                                      total_tokens=int(data.get("total_tokens") or 0),
                                      reasoning_tokens=int(data.get("reasoning_tokens") or 0),
                                      total_cost=data.get("cost_usd"))}


def _sample(tests: list[TestRecord], t: Transcript | None) -> EvalSample:
    from inspect_ai._util.error import EvalError
    from inspect_ai.log import EvalSample
    from inspect_ai.model import ModelOutput
    from inspect_ai.scorer import Score

    o = tests[0].outcome
    assert o is not None
    messages = _messages(t, o.episode_id)
    scores = {_test_name(r.nodeid): Score(value=PASSED if r.status in ("passed", "xpassed") else FAILED,
                                          explanation=r.message or r.status, metadata={"status": r.status})
              for r in tests if r.status in ("passed", "xpassed", "failed", "xfailed")}
    if o.label_status == "ok" and isinstance(o.headline_value, (int, float)):
        scores[o.headline] = Score(value=float(o.headline_value), explanation=f"headline metric of {o.scenario}")
    error = "" if o.label_status == "ok" else f"label {o.label_status} ({o.termination}): {o.label_reason}"
    last = next((m for m in reversed(messages) if m.role == "assistant"), None)
    opening = [m for m in messages[:2] if m.role in ("system", "user")]
    return EvalSample(
        id=o.variant, epoch=o.repeat + 1, input=opening or "", target="", messages=messages,
        output=ModelOutput.from_message(last) if last is not None else ModelOutput(model=o.model),
        scores=scores or None, events=_events(t, messages, error), model_usage=_usage(o),
        error=EvalError(message=error, traceback="", traceback_ansi="") if error else None,
        uuid=_id("sample", o.episode_id),
        metadata={"episode_id": o.episode_id, "family": o.family, "variant": o.variant, "repeat": o.repeat,
                  "seed": o.seed, "factors": o.factors, "baseline_variant": o.baseline_variant,
                  "label_status": o.label_status, "termination": o.termination, "steps": o.steps,
                  "metrics": o.metrics, "evidence": t.evidence if t else [],
                  "evidence_steps": t.evidence_steps if t else [], "provenance": o.provenance,
                  "transcript": "none kept" if t is None else t.source},
    )


def _log(model: str, scenario: str, episodes: dict[str, list[TestRecord]], transcripts: dict[str, Transcript],
         created: str, manifest: dict[str, Any]) -> EvalLog:
    from inspect_ai.log import (EvalConfig, EvalDataset, EvalLog, EvalMetric, EvalResults, EvalScore, EvalSpec,
                                EvalStats)

    samples = [_sample(tests, transcripts.get(eid)) for eid, tests in sorted(episodes.items())]
    samples.sort(key=lambda s: (str(s.id), s.epoch))
    first = next(iter(episodes.values()))[0].outcome
    assert first is not None
    names = sorted({n for s in samples for n in (s.scores or {})})
    results = []
    for name in names:
        values = [s.scores[name].value for s in samples if s.scores and name in s.scores]
        numeric = [1.0 if v == PASSED else 0.0 if v == FAILED else float(v)  # type: ignore[arg-type,unused-ignore]
                   for v in values]  # our scores are PASSED/FAILED or a number (inspect_ai's Value allows more)
        metric = "accuracy" if all(v in (PASSED, FAILED) for v in values) else "mean"
        results.append(EvalScore(name=name, scorer=name, scored_samples=len(values),
                                 unscored_samples=len(samples) - len(values),
                                 metrics={metric: EvalMetric(name=metric, value=sum(numeric) / len(numeric))}))
    usage: dict[str, Any] = {}
    for s in samples:
        for key, u in s.model_usage.items():
            usage[key] = u if key not in usage else usage[key] + u
    task = f"pytest_drift/{scenario}"
    spec = EvalSpec(
        eval_id=_id("eval", model, scenario, created), run_id=_id("run", created), created=created, task=task,
        task_id=_id("task", scenario), task_version=0, model=model,
        dataset=EvalDataset(name=scenario, samples=len({s.id for s in samples}),
                            sample_ids=sorted({str(s.id) for s in samples})),
        config=EvalConfig(epochs=max(s.epoch for s in samples)),
        packages={"pytest-drift": __version__},
        metadata={"family": first.family, "headline": first.headline, "threshold": first.threshold,
                  "git_commit": manifest.get("git_commit"), "source": "pytest-drift export"},
    )
    return EvalLog(status="success", eval=spec, samples=samples,
                   results=EvalResults(total_samples=len(samples), completed_samples=len(samples), scores=results),
                   stats=EvalStats(started_at=created, completed_at=created, model_usage=usage))


def export(records: Iterable[TestRecord], transcripts: dict[str, Transcript], out: Path,
           manifest: dict[str, Any] | None = None, created: datetime | None = None) -> list[Path]:
    """Write one `.eval` log per (model, scenario) into `out`; returns the files written."""
    from inspect_ai.log import write_eval_log

    by_group: dict[tuple[str, str], dict[str, list[TestRecord]]] = {}
    for r in records:
        if r.outcome is not None:
            o = r.outcome
            by_group.setdefault((o.model, o.scenario), {}).setdefault(o.episode_id, []).append(r)
    when = (created or datetime.now(UTC)).replace(microsecond=0)
    stamp = when.isoformat()
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for (model, scenario), episodes in sorted(by_group.items()):
        log = _log(model, scenario, episodes, transcripts, stamp, manifest or {})
        path = out / f"{when.strftime('%Y-%m-%dT%H-%M-%S')}_{_slug(scenario)}_{_slug(model)}.eval"
        write_eval_log(log, str(path))
        written.append(path)
    return written


def transcripts_of(lines: dict[str, str]) -> dict[str, Transcript]:
    return {k: Transcript.from_json(v) for k, v in lines.items()}

