"""Progress of a live run: a live line in a terminal (tqdm), a plain line every so often in
CI logs. Drawn only from the main thread, while a test waits for its episode, with pytest's
capture suspended; the live line is cleared before pytest writes again.

Under xdist the workers have no terminal: each writes its figures to a file (`Snapshots`)
and the controller's `Relay` thread adds them up and prints them as plain lines."""

from __future__ import annotations

import json
import os
import sys
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ..engine.pool import LiveStats

MODES = ("auto", "bar", "lines", "off")


def _stats() -> type[LiveStats]:
    """engine.pool's LiveStats, imported when figures are first read (a run without live
    episodes never imports the pool)."""
    from ..engine.pool import LiveStats

    return LiveStats


def _tokens(n: int) -> str:
    return f"{n / 1e6:.2f}M" if n >= 1e6 else f"{n / 1e3:.1f}k" if n >= 1e3 else str(n)


def _duration(s: float) -> str:
    s = round(s)
    return f"{s // 3600}h{s % 3600 // 60:02d}m" if s >= 3600 else f"{s // 60}m{s % 60:02d}s" if s >= 60 else f"{s}s"


def figures(s: LiveStats) -> str:
    """calls, tokens, cost, retries and rate-limit waits, as one short phrase."""
    cost = f"${s.cost_usd:.4f}" + (f" (+{s.unpriced} calls unpriced)" if s.unpriced else "")
    waits = f"{s.rate_limit_waits} rate-limit waits ({s.waited_s:.0f}s)" if s.rate_limit_waits else "0 rate-limit waits"
    return f"{s.calls} calls · {_tokens(s.total_tokens)} tokens · {cost} · {s.retries} retries · {waits}"


def status_line(s: LiveStats) -> str:
    eta = s.eta_s()
    not_run = f" · {s.not_run} not run" if s.not_run else ""
    not_run += f" · {s.stopped} stopped" if s.stopped else ""
    return (f"{s.done}/{s.submitted} done · {s.running} running · {s.queued} queued{not_run} · {figures(s)} · "
            f"ETA {_duration(eta) if eta is not None else '?'}")


class Progress:
    def __init__(self, config: pytest.Config, mode: str, every: float) -> None:
        self.config, self.every, self._mode = config, every, mode
        self.bar: Any = None
        self.shown = False  # the live line is on screen (drawn since the last clear)
        self.last_line = 0.0

    @property
    def mode(self) -> str:
        """auto: a live line when pytest writes to a terminal, plain lines otherwise (CI logs)."""
        if self._mode == "auto":
            tr = self.config.pluginmanager.getplugin("terminalreporter")
            self._mode = "bar" if tr is not None and getattr(tr, "isatty", False) else "lines"
        return self._mode

    def _capture_off(self) -> Any:
        capman = self.config.pluginmanager.getplugin("capturemanager")
        return capman.global_and_fixture_disabled() if capman is not None else _Nothing()

    def tick(self, stats: LiveStats) -> None:
        """While a test waits: redraw the live line, or print a plain line when one is due."""
        if self.mode == "bar":
            with self._capture_off():
                if not self.shown:
                    self._newline()  # the live line gets a line of its own, below pytest's dots
                self._draw(stats)
        elif self.mode == "lines" and time.monotonic() - self.last_line >= self.every:
            self.last_line = time.monotonic()
            self.line(stats)

    def line(self, stats: LiveStats, prefix: str = "pytest-drift live: ") -> None:
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        if tr is None:
            return
        with self._capture_off():
            self._newline()
            tr.write_line(prefix + status_line(stats))

    def _newline(self) -> None:
        """End the line pytest's progress dots are on, if they are."""
        tr = self.config.pluginmanager.getplugin("terminalreporter")
        if tr is not None and getattr(getattr(tr, "_tw", None), "width_of_current_line", None):
            tr.write("\n")

    def _draw(self, stats: LiveStats) -> None:
        if self.bar is None:
            from tqdm import tqdm

            class Bar(tqdm):
                monitor_interval = 0  # no tqdm thread: we draw only while pytest's capture is off

            self.bar = Bar(total=stats.submitted, unit="ep", leave=False, file=sys.stderr, dynamic_ncols=True,
                           bar_format="pytest-drift live |{bar:12}| {desc}", mininterval=0)
        self.bar.total = stats.submitted
        self.bar.n = stats.done + stats.not_run + stats.stopped
        self.bar.set_description_str(status_line(stats), refresh=False)
        self.bar.refresh()
        self.shown = True

    def pause(self) -> None:
        """The wait is over: clear the live line (if drawn) before pytest writes."""
        if self.bar is not None and self.shown:
            with self._capture_off():
                self.bar.clear()
            self.shown = False

    def close(self) -> None:
        if self.bar is not None:
            with self._capture_off():
                self.bar.close()
            self.bar = None


SNAPSHOT_EVERY = 0.5  # seconds between a worker's snapshot files


class Snapshots:
    """A folder of live figures, one JSON file per xdist worker, replaced whole (never half-read)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.last = 0.0

    def write(self, worker: str, stats: LiveStats, force: bool = False) -> None:
        if not force and time.monotonic() - self.last < SNAPSHOT_EVERY:
            return
        self.last = time.monotonic()
        tmp = self.folder / f".{worker}.tmp"
        tmp.write_text(json.dumps(stats.as_dict()))
        os.replace(tmp, self.folder / f"{worker}.json")

    def read(self) -> list[LiveStats]:
        out = []
        for path in sorted(self.folder.glob("*.json")):
            try:
                out.append(_stats().from_dict(json.loads(path.read_text())))
            except (OSError, ValueError):
                continue  # a worker's first file not there yet
        return out


class Relay:
    """The xdist controller's progress: a thread that adds up the workers' snapshots and prints
    a plain line every `every` seconds (a live line would tear pytest's dots, which the
    controller writes whenever a worker reports), and a last one when the run ends."""

    def __init__(self, progress: Progress, snapshots: Snapshots, every: float) -> None:
        self.progress, self.snapshots, self.every = progress, snapshots, every
        self.started = time.monotonic()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="drift-progress", daemon=True)
        self._thread.start()

    def total(self) -> LiveStats:
        return _stats().total(self.snapshots.read(), started=self.started)

    def _run(self) -> None:
        while not self._stop.wait(max(self.every, SNAPSHOT_EVERY)):
            stats = self.total()
            if stats.submitted and stats.done + stats.not_run + stats.stopped < stats.submitted:
                self.progress.line(stats)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


class _Nothing:
    def __enter__(self) -> None:
        return None

    def __exit__(self, *exc: Any) -> None:
        return None
