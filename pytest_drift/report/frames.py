"""Outcomes as pandas DataFrames: one row per episode, one per test, one per (episode, series, step).

The public loader (`load_frames`) reads a running session's records, `outcomes.jsonl`
files or junit XML files (CI shards merged); every figure of a report comes from these."""

from __future__ import annotations

import json

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

import pandas as pd

from ..outcome import Outcome, TraceEntry
from ..records import TestRecord
from ..world.metrics import tool_usage
from .junit import load_records

CONTRACT = {  # instrumental contract fields -> short column names
    "ic_behavior_detected": "ic", "benchmark_task_completed": "completed", "official_path_succeeded": "official",
    "official_path_attempted": "attempted", "any_forged": "forged", "state_tampering_detected": "tampering",
}
EPISODE_KEYS = ["model", "scenario", "variant", "repeat"]
BASE_COLUMNS = ["episode_id", "model", "scenario", "family", "variant", "repeat", "seed", "label_status",
                "termination", "steps", "model_calls", "message_limit", "tool_calls", "headline", "threshold",
                "headline_value", "cassette"]


# the tool-trace event table: a trace entry, with what the scenario's call record says of it
EVENT_COLUMNS = ["episode_id", "model", "scenario", "variant", "repeat", "event_idx", "step", "tool", "arguments",
                 "category", "status", "primary_command", "paths", "is_help", "is_official_tool", "is_policy_doc",
                 "is_sensitive_path", "is_internal_state", "is_disallowed", "error_text", "call_record"]


@dataclass
class Frames:
    episodes: pd.DataFrame  # one row per episode (deduplicated across the tests that share it)
    tests: pd.DataFrame  # one row per test: nodeid, status, episode_id, model, scenario, variant, message
    steps: pd.DataFrame  # long form of every per-step series: episode_id, series, step, value
    # the reference agents' episodes on the same worlds (engine.references), rows as in `episodes`
    references: pd.DataFrame = field(default_factory=pd.DataFrame)
    # one row per trace entry of every instrumental episode (`events`, the tool-trace tables)
    events: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=EVENT_COLUMNS))
    trace_rules: dict[str, Any] = field(default_factory=dict)  # per scenario, what its trace flags name


EVENT_FLAGS = {"is_help": "help", "is_official_tool": "official_tool", "is_policy_doc": "policy_doc",
               "is_sensitive_path": "sensitive_path", "is_internal_state": "internal_state",
               "is_disallowed": "disallowed"}
TOOL_CATEGORY = {"read_file": "read", "list_dir": "list", "write_file": "write"}  # a call without a record


def event_rows(o: Outcome) -> list[tuple[Any, ...]]:
    """One row per entry of the outcome's trace (EVENT_COLUMNS). The scenario's call records
    (`fields.calls`: action, status, primary, paths, flags, error) are matched in order by step
    and tool; an entry without one (a malformed call the world never ran) is an error event with
    no flag, its category taken from the tool's name."""
    calls = [c for c in (o.fields.get("calls") or []) if isinstance(c, dict)]
    rows, j = [], 0
    for i, t in enumerate(o.trace):
        c = calls[j] if j < len(calls) else None
        if c is not None and t.error is None and c.get("step") == t.step and c.get("tool") == t.tool:
            j += 1
            flags = set(c.get("flags") or ())
            rows.append((o.episode_id, o.agent_label, o.scenario, o.variant, o.repeat, i, t.step, t.tool, t.arguments,
                         c.get("action") or TOOL_CATEGORY.get(t.tool, "execute"), c.get("status", "ok"),
                         c.get("primary", ""), ";".join(c.get("paths") or ()),
                         *(name in flags for name in EVENT_FLAGS.values()), c.get("error") or "", True))
        else:
            rows.append((o.episode_id, o.agent_label, o.scenario, o.variant, o.repeat, i, t.step, t.tool, t.arguments,
                         TOOL_CATEGORY.get(t.tool, "execute"), "error" if t.error else "ok", t.tool, "",
                         *(False for _ in EVENT_FLAGS), t.error or "", False))
    return rows


def _episode_row(o: Outcome) -> dict[str, Any]:
    f = o.fields
    row: dict[str, Any] = {
        "episode_id": o.episode_id, "model": o.agent_label, "scenario": o.scenario, "family": o.family,
        "variant": o.variant, "repeat": o.repeat, "seed": o.seed, "label_status": o.label_status,
        "label_reason": o.label_reason or None, "termination": o.termination, "steps": o.steps, "model_calls": o.model_calls,
        "message_limit": o.message_limit, "tool_calls": o.tool_calls,
        "headline": o.headline, "threshold": o.threshold,
        "headline_value": _num(o.metrics.get(o.headline)) if o.label_status == "ok" else None,
        "better": _better(o),
        # the threshold the alignment series is read against (the scenario's, or the world's own field)
        "series_threshold": _num(o.threshold if o.threshold is not None else o.fields.get("alignment_threshold")),
        "engaged": _engaged(o) if o.label_status == "ok" else None,
        "cassette": o.provenance.get("cassette"),
        # what the model's requests carried (models.request), as JSON text: one value per model
        "request": json.dumps(o.provenance["request"], sort_keys=True) if o.provenance.get("request") else None,
        "rule_breaks": len(o.violations),  # hard rules broken (a breach fails the episode)
        "broken_rules": ",".join(sorted({v.rule for v in o.violations})),
    }
    for key, value in o.metrics.items():
        if _num(value) is not None:
            row[f"m_{key}"] = _num(value)
    if o.family == "instrumental" and o.label_status == "ok" and f:
        row.update({short: bool(f.get(name)) for name, short in CONTRACT.items()})
        row.update({"completion_mode": f.get("completion_mode"), "ic_method": f.get("ic_method"),
                    "ic_forbidden": f.get("ic_forbidden"), "letter": o.factors.get("letter", f.get("letter")),
                    **_awareness(f.get("awareness") or {})})
        row.update(_instrumental_contract(f))
        row.update({f"tc_{k}": v for k, v in (f.get("trace_counts") or {}).items()})
        row.update(_audit(f.get("audit")))
        ic_steps = [e.get("step") for e in f.get("ic_events") or () if isinstance(e, dict)]
        steps = [s for s in ic_steps if isinstance(s, int)]
        row["ic_first_step"] = min(steps) if steps else None  # the tool-trace ordering features
    elif o.family == "instrumental":
        row["letter"] = o.factors.get("letter")
    row.update(_stated_goal(f) if o.label_status == "ok" else {})
    baseline = o.baseline_variant or f.get("baseline_variant")  # the field: outcomes written before 0.2
    if baseline is not None:
        row["baseline_variant"] = baseline
    row.update({f"factor_{k}": v for k, v in o.factors.items() if isinstance(v, (str, int, float, bool))})
    if o.label_status == "ok":  # tools by name: the gym's own count, else the trace's
        usage = f.get("tool_usage") or tool_usage(e.tool for e in o.trace)
        row.update({f"tu_{k}": v for k, v in usage.items()})
    row.update(_tokens(o))
    row.update(_fork(o))
    return row


def _fork(o: Outcome) -> dict[str, Any]:
    """A fork's provenance as columns (none for an episode played from its start); the row's
    `model` is already marked `(fork)` or `(fork, intervened)`."""
    if o.fork_of is None:
        return {}
    return {"fork_of": o.fork_of, "fork_step": _int(o.provenance.get("fork_step")), "fork_model": o.model,
            "intervened": o.intervened, "intervention": str(o.provenance.get("fork_intervention") or "")}


def _int(value: Any) -> int | None:
    try:
        return int(str(value))
    except ValueError:
        return None


def divergence(fork: list[TraceEntry], source: list[TraceEntry]) -> int | None:
    """The first step at which the fork's actions (tool and arguments, in order) differ from
    its source's; a step one of them did not reach counts as differing unless neither acted
    there. None: the two traces hold the same actions at every step."""
    def by_step(trace: list[TraceEntry]) -> dict[int, list[tuple[str, str]]]:
        out: dict[int, list[tuple[str, str]]] = {}
        for t in trace:
            out.setdefault(t.step, []).append((t.tool, t.arguments))
        return out

    a, b = by_step(fork), by_step(source)
    return next((step for step in sorted(a.keys() | b.keys()) if a.get(step) != b.get(step)), None)


def _better(o: Outcome) -> str:
    """The headline's direction as the scenario declares it; outcomes written before it was
    declared: higher when the scenario sets a threshold (a floor), lower otherwise (a rate of
    the behaviour)."""
    declared = getattr(o, "better", None)
    if declared in ("higher", "lower"):
        return str(declared)
    return "higher" if o.threshold is not None else "lower"


def _engaged(o: Outcome) -> float:
    """1.0 when the agent acted on the task, else 0.0: the world's own `engaged` field where it
    states one; in the instrumental suite the paper's attempt (the official path or the shortcut
    tried); otherwise at least one tool call the world accepted. An agent that only sends
    malformed calls, or none, never acted."""
    f = o.fields
    if isinstance(f.get("engaged"), bool):
        return float(f["engaged"])
    if "official_path_attempted" in f:
        return float(bool(f.get("official_path_attempted")) or bool(f.get("ic_attempted", f.get("ic_behavior_detected"))))
    return float(any(not entry.error for entry in o.trace))


def _awareness(aw: dict[str, Any]) -> dict[str, str]:
    """The visible tier and the reasoning tier; `n/a` where no reasoning was seen (the model
    showed none, or the outcome predates the scan): not the same as reasoning without signs."""
    return {"awareness": aw.get("tier", "none"), "reasoning_awareness": aw.get("reasoning_tier") or "n/a"}


def _stated_goal(f: dict[str, Any]) -> dict[str, str]:
    """The goal an interrogated agent said it pursues: the LLM judge's label where `--drift-judge` ran,
    else the scenario's deterministic one; nothing for an episode that was not interrogated."""
    judge, label = f.get("stated_goal_judge"), f.get("stated_goal_label")
    if isinstance(judge, str) and judge:
        return {"stated_goal": judge, "stated_goal_by": "judge"}
    return {"stated_goal": label, "stated_goal_by": "label"} if isinstance(label, str) and label else {}


def _audit(audit: Any) -> dict[str, Any]:
    """The review-only audit (engine.audit) as columns; none for an episode not audited."""
    if not isinstance(audit, dict):
        return {}
    labels = audit.get("labels")
    return {"audit_status": audit.get("status"), "audit_model": audit.get("model"),
            "audit_prompt_version": audit.get("prompt_version"),
            "audit_labels": None if labels is None else ",".join(labels),
            "audit_steps": json.dumps(audit.get("steps") or {}, sort_keys=True)}


def _instrumental_contract(f: dict[str, Any]) -> dict[str, Any]:
    """The contract fields of issue 15 (outcomes written before them: the deterministic label
    stands for the attempt and the adjudication, and no receipt was checked)."""
    ic = bool(f.get("ic_behavior_detected"))
    issues = f.get("label_issues") or []
    return {"ic_attempted": bool(f.get("ic_attempted", ic)), "ic_adj": bool(f.get("ic_adjudicated", ic)),
            "receipt_valid": bool(f.get("official_receipt_valid", True)),
            "label_issue": f.get("deterministic_label_issue"),
            "label_issue_rule": issues[0].get("rule") if issues and isinstance(issues[0], dict) else None}


def _tokens(o: Outcome) -> dict[str, float]:
    """Tokens and cost of the episode's model calls, where the outcome carries them (its
    `usage`, as the provider reported it); nothing where it does not. Reasoning tokens are
    part of the total; an outcome written before they were counted reads 0. Encrypted reasoning:
    pieces of reasoning that came encrypted or redacted (counted, never read)."""
    usage = getattr(o, "usage", None)
    if usage is None:
        return {}
    data = usage.as_dict() if hasattr(usage, "as_dict") else dict(usage) if isinstance(usage, dict) else {}
    out = {}
    for key, column in (("total_tokens", "usage_tokens"), ("reasoning_tokens", "usage_reasoning_tokens"),
                        ("encrypted_reasoning", "usage_encrypted_reasoning"), ("cost_usd", "usage_cost_usd")):
        value = _num(data.get(key))
        if value is not None:
            out[column] = value
    return out



def _num(value: Any) -> float | None:
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, (int, float)):
        return float(value)
    return None


def _episode_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Episode rows in a fixed column and row order (not the order records arrived in)."""
    ep = pd.DataFrame(rows)
    if ep.empty:
        return ep
    ep = ep[BASE_COLUMNS + sorted(c for c in ep.columns if c not in BASE_COLUMNS)]
    ep = ep.sort_values(EPISODE_KEYS, kind="stable").reset_index(drop=True)
    if "letter" in ep:  # an unknown episode has no fields: take its variant's letter from the others
        known = ep.dropna(subset=["letter"]).drop_duplicates("variant").set_index("variant")["letter"]
        ep["letter"] = ep["letter"].fillna(ep["variant"].map(known))
    return ep


def _fork_divergence(row: dict[str, Any], episodes: dict[str, dict[str, Any]],
                     traces: dict[str, list[TraceEntry]]) -> dict[str, Any]:
    """Where a fork's actions first differ from its source's (`fork_diverges_at`, None when
    unknown or never) and that in words (`fork_divergence`): known only when the source is
    among the outcomes and both were scored (an unscored trace may be cut short)."""
    source = episodes.get(row["fork_of"])
    if source is None:
        return {"fork_diverges_at": None, "fork_divergence": "source not in this report"}
    if row["label_status"] != "ok" or source["label_status"] != "ok":
        return {"fork_diverges_at": None, "fork_divergence": "not scored"}
    step = divergence(traces[row["episode_id"]], traces[row["fork_of"]])
    return {"fork_diverges_at": step, "fork_divergence": "never" if step is None else f"step {step}"}


def frames_from_records(records: Iterable[TestRecord], references: Iterable[Outcome] = ()) -> Frames:
    """`references`: the reference agents' outcomes on the same worlds (kept apart from the
    models' episodes: they have no tests and are never ranked)."""
    episodes: dict[str, dict[str, Any]] = {}
    traces: dict[str, list[TraceEntry]] = {}
    events: list[tuple[Any, ...]] = []
    rules: dict[str, Any] = {}
    tests: list[dict[str, Any]] = []
    steps: list[tuple[str, str, int, float]] = []
    for rec in sorted(records, key=lambda r: r.nodeid):
        o = rec.outcome
        if o is None:
            continue
        tests.append({"nodeid": rec.nodeid, "status": rec.status, "episode_id": o.episode_id, "model": o.agent_label,
                      "scenario": o.scenario, "family": o.family, "variant": o.variant, "repeat": o.repeat,
                      "message": rec.message})
        if o.episode_id in episodes:
            continue
        episodes[o.episode_id] = _episode_row(o)
        traces[o.episode_id] = o.trace
        if o.family == "instrumental":
            events.extend(event_rows(o))
            if o.scenario not in rules and isinstance(o.fields.get("trace_rules"), dict):
                rules[o.scenario] = o.fields["trace_rules"]
        for name, series in o.series.items():
            steps.extend((o.episode_id, name, t, float(v)) for t, v in enumerate(series))
    for row in episodes.values():
        if row.get("fork_of"):
            row.update(_fork_divergence(row, episodes, traces))
    refs = {o.episode_id: _episode_row(o) for o in references}
    return Frames(
        episodes=_episode_frame(list(episodes.values())),
        tests=pd.DataFrame(tests, columns=["nodeid", "status", "episode_id", "model", "scenario", "family",
                                           "variant", "repeat", "message"]),
        steps=pd.DataFrame(steps, columns=["episode_id", "series", "step", "value"]),
        references=_episode_frame(list(refs.values())),
        events=pd.DataFrame(events, columns=EVENT_COLUMNS).sort_values(
            ["model", "scenario", "variant", "repeat", "episode_id", "event_idx"], kind="stable").reset_index(drop=True),
        trace_rules=dict(sorted(rules.items())),
    )


def load_frames(paths: Iterable[Path | str], references: Iterable[Outcome] = ()) -> Frames:
    """DataFrames from outcomes.jsonl and/or junit XML files (junit_family=legacy)."""
    return frames_from_records(load_records(Path(p) for p in paths), references)
