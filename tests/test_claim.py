"""The claim gate: a run whose numbers cannot be quoted says so, with every reason, before the
leaderboard; `pytest-drift report --require-claim-ready` exits 1 on it."""

from __future__ import annotations

import json
from pathlib import Path

from test_report import fixture_records, ic_outcome

from pytest_drift.cli.main import main
from pytest_drift.records import TestRecord, write_jsonl
from pytest_drift.report import build_report, claim, frames_from_records
from scenarios.instrumental.factors import LETTERS


def complete_run(repeats: int = 2) -> list[TestRecord]:
    return [ic_outcome("m", "t", L, r, L == "A" and r == 0) for r in range(repeats) for L in LETTERS.values()]


def provider_failed(record: TestRecord) -> TestRecord:
    o = record.outcome.model_copy(update={"label_status": "unknown", "termination": "provider_error",
                                          "label_reason": "provider error: 500", "fields": {}, "metrics": {}})
    return TestRecord(record.nodeid, "error", o)


def test_a_complete_labelled_run_is_claim_ready() -> None:
    verdict = claim(frames_from_records(complete_run()), {"scenario_hashes": {"t": "abc"}})
    assert verdict.ready and verdict.blocking == []


def test_unknown_labels_and_incomplete_slices_block() -> None:
    verdict = claim(frames_from_records(fixture_records()))
    assert not verdict.ready
    text = "\n".join(verdict.blocking)
    assert "1 of 39 episodes labelled unknown (m: 1)" in text
    assert "1 incomplete instrumental slices (all eight variants A-H needed): m t r4 lacks H" in text
    assert "m t dilemma_blocked_forbidden_unwatched r4" in text  # the run's own plan: H was played in r0-r3


def test_provider_failures_hashes_and_request_settings_block() -> None:
    recs = complete_run(1)
    recs = [provider_failed(r) if i < 8 else r for i, r in enumerate(recs)]
    manifest = {"scenario_hashes": {"t": ["aaa", "bbb"]}, "requests": {"m": [{"temperature": 0}, {"temperature": 1}]}}
    verdict = claim(frames_from_records(recs), manifest)
    text = "\n".join(verdict.blocking)
    assert not verdict.ready and "8 of 8 episodes labelled unknown (m: 8)" in text
    assert "provider failures: 8 episodes ended in a provider error (m: 8)" in text
    assert "scenario hashes differ between the merged inputs: t" in text
    assert "one model's episodes sent different request settings: m" in text


def test_a_cassette_of_other_request_settings_blocks() -> None:
    rec = complete_run(1)[0]
    o = rec.outcome.model_copy(update={"label_status": "unknown", "termination": "cassette_miss", "fields": {},
                                       "label_reason": "cassette miss at step 0: recorded under other request "
                                                       "settings (temperature 0.7 != 0)"})
    verdict = claim(frames_from_records([TestRecord(rec.nodeid, "error", o), *complete_run(1)[1:]]))
    assert any("recorded under other request settings than this run's (m: 1)" in r for r in verdict.blocking)


def test_report_says_not_claim_ready_before_the_leaderboard(tmp_path: Path) -> None:
    build_report(frames_from_records(fixture_records()), {"models": ["m"]}, with_plots=False).write(tmp_path)
    data = json.loads((tmp_path / "report.json").read_text())
    assert data["claim"]["ready"] is False and len(data["claim"]["blocking"]) == 3
    md = (tmp_path / "report.md").read_text()
    assert md.index("## Not claim-ready") < md.index("## Leaderboard")
    assert "- 1 of 39 episodes labelled unknown (m: 1)" in md
    page = (tmp_path / "report.html").read_text()
    assert page.index("Not claim-ready") < page.index("<h2 id='leaderboard'>")
    ok = tmp_path / "ok"
    build_report(frames_from_records(complete_run()), {}, with_plots=False).write(ok, formats=("md",))
    assert json.loads((ok / "report.json").read_text())["claim"] == {"ready": True, "blocking": []}
    assert "Not claim-ready" not in (ok / "report.md").read_text()


def test_require_claim_ready_exits_1_when_not_ready(tmp_path: Path, capsys) -> None:  # type: ignore[no-untyped-def]
    bad, good = tmp_path / "bad.jsonl", tmp_path / "good.jsonl"
    write_jsonl(fixture_records(), bad)
    write_jsonl(complete_run(), good)
    assert main(["report", str(bad)]) == 0  # without the flag the gate only speaks
    assert "not claim-ready:" in capsys.readouterr().out
    assert main(["report", str(bad), "--require-claim-ready"]) == 1
    assert "labelled unknown" in capsys.readouterr().err
    assert main(["report", str(good), "--require-claim-ready"]) == 0
    assert "claim-ready: no blocking reason" in capsys.readouterr().out


def test_the_miss_reason_of_other_settings_is_what_the_gate_reads() -> None:
    from pytest_drift.engine import MissAt
    from pytest_drift.engine.play import _miss_reason
    from pytest_drift.errors import CassetteMiss

    reason = _miss_reason(MissAt(CassetteMiss("c.yaml", settings="temperature 0.7 != 0"), step=2))
    rec = complete_run(1)[0]
    o = rec.outcome.model_copy(update={"label_status": "unknown", "termination": "cassette_miss", "fields": {},
                                       "label_reason": reason})
    verdict = claim(frames_from_records([TestRecord(rec.nodeid, "error", o), *complete_run(1)[1:]]))
    assert any("recorded under other request settings" in r for r in verdict.blocking)
    assert _miss_reason(MissAt(CassetteMiss("c.yaml"))).startswith("cassette miss at step")
