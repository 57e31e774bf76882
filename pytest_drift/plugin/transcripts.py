"""Transcripts: every played episode's conversation kept beside the outcomes, and a failed
test's message naming its episode.

Each process that plays episodes (the only one, or every xdist worker) appends one JSON
line per episode to its own file, `DIR/transcripts.parts/<worker>-<pid>.jsonl`, flushed
as soon as the episode is played. No two processes share a file, so nothing interleaves;
a worker that crashes keeps every line it wrote. At the session's end the controller
folds the parts into `DIR/transcripts.jsonl` (before the report is rendered).

Why files and not `user_properties` (which carry the outcomes to the controller): a
conversation is tens of kilobytes, and user_properties also land in junit XML, which
would grow by that much per test (and per test of the same episode). Reports made from
junit rebuild the conversations from the cassettes instead.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generator

import pytest

from .options import OPTIONS, case_of

if TYPE_CHECKING:
    from ..engine import Played


class Keeper:
    """Writes this process's transcripts into its own part file."""

    def __init__(self, report_dir: Path | None, worker: str) -> None:
        self.dir = report_dir
        self.part: Path | None = None
        if report_dir is not None:  # a report was asked for: records (and pydantic) are needed anyway
            from ..records import TRANSCRIPT_PARTS

            self.part = report_dir / TRANSCRIPT_PARTS / f"{worker}-{os.getpid()}.jsonl"

    def keep(self, played: Played, miss_message: str = "") -> None:
        if self.part is not None:
            from ..engine.transcript import transcript_of_played
            from ..records import append_transcript

            append_transcript(self.part, transcript_of_played(played, miss_message))

    def show_command(self, episode_id: str) -> str:
        if self.dir is None:
            return f"episode {episode_id} (keep its transcript with --drift-report DIR)"
        return f"episode {episode_id}; its transcript: pytest-drift show '{episode_id}' {self.dir}"


KEEPER = pytest.StashKey[Keeper]()


def keep(config: pytest.Config, played: Played, miss_message: str = "") -> None:
    """Keep a just-played episode's transcript (called once per episode, where it was played)."""
    keeper = config.stash.get(KEEPER, None)
    if keeper is not None:
        keeper.keep(played, miss_message)


def pytest_configure(config: pytest.Config) -> None:
    report = config.stash[OPTIONS].report
    report_dir = report.resolve() if report else None  # a test that changes directory cannot move it
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    config.stash[KEEPER] = Keeper(report_dir, worker)
    if report_dir is not None and not hasattr(config, "workerinput"):
        from ..records import TRANSCRIPT_PARTS, TRANSCRIPTS

        # a new session writes this directory's transcripts afresh: no part of an earlier one mixes in
        shutil.rmtree(report_dir / TRANSCRIPT_PARTS, ignore_errors=True)
        (report_dir / TRANSCRIPTS).unlink(missing_ok=True)


@pytest.hookimpl(tryfirst=True)
def pytest_sessionfinish(session: pytest.Session) -> None:
    """In the controller (or the only process), before the report is rendered: fold the parts."""
    config = session.config
    keeper = config.stash.get(KEEPER, None)
    if keeper is not None and keeper.dir is not None and not hasattr(config, "workerinput"):
        from ..records import merge_transcript_parts

        try:
            merge_transcript_parts(keeper.dir)
        except OSError:
            pass  # the parts stay; `pytest-drift show` and the report read them too


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Generator[None, Any, Any]:
    """A failed (or erroring) drift test's message ends by naming its episode and how to read it."""
    report = yield
    case = case_of(item)
    if case is not None and call.excinfo is not None and (report.failed or hasattr(report, "wasxfail")):
        keeper = item.config.stash.get(KEEPER, None)
        text = keeper.show_command(case.id) if keeper is not None else f"episode {case.id}"
        longrepr = report.longrepr
        if hasattr(longrepr, "addsection"):
            longrepr.addsection("pytest-drift", text)
        elif isinstance(longrepr, str):
            report.longrepr = f"{longrepr}\n{text}"
    return report
