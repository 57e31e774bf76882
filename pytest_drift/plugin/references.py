"""In an xdist worker: the reference agents (engine.references) of the worlds this worker played,
handed to the controller, which merges them (`engine.references.from_workers`)."""

from __future__ import annotations

import json
from typing import Any, Callable

from ..engine.references import ReferencePlayer
from ..outcome import Outcome
from ..records import PROPERTY

WORKER_OUTPUT = "drift_references"  # an xdist worker's references, for the controller (workeroutput)


class WorkerReferences:
    """In an xdist worker: the references of the worlds this worker played, played when its
    last test is done and handed to the controller through `workeroutput` (JSON text). Each
    worker plays its own share, so the one that finishes first uses the time the other still
    runs; the controller's own process stays free to schedule tests (a thread there would
    hold its GIL). A world two workers saw is played by both, the same way: the controller
    keeps one."""

    def __init__(self, config: Any, make_player: Callable[[], ReferencePlayer]) -> None:
        self.config, self.make_player = config, make_player  # the registry is built after this plugin
        self.worlds: dict[tuple[str, str, int], Outcome] = {}
        self.seen: set[str] = set()

    def pytest_runtest_logreport(self, report: Any) -> None:
        if report.nodeid in self.seen:
            return
        text = dict(getattr(report, "user_properties", None) or []).get(PROPERTY)
        if text is None:
            return
        self.seen.add(report.nodeid)
        o = Outcome.from_json(text)
        self.worlds.setdefault((o.scenario, o.variant, o.repeat), o)

    def pytest_sessionfinish(self) -> None:
        player = self.make_player()
        for o in self.worlds.values():
            player.play(o)
        refs = player.result()
        self.config.workeroutput[WORKER_OUTPUT] = json.dumps({
            "outcomes": [o.to_json() for o in refs.outcomes], "skipped": dict(refs.skipped),
            "seconds": refs.seconds})
