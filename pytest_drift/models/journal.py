"""An episode's answered calls, durable the moment each one returns: its cassette's journal.

A cassette is written once, atomically, when its episode ends, so a run killed mid-episode
(kill -9, OOM, Ctrl-C, a stopped run) used to lose every call the episode had paid for.
While a cassette records, each interaction vcrpy appends (request and response after the
cassette's own scrubbing: no auth headers, no key parameters) is also written as one JSON
line to `.<cassette name>.journal` next to it, and fsync'd before the response reaches the
caller. When the episode ends the cassette is written as before and the journal removed.

Opened again without its cassette (`once`, `new_episodes`), a journal's interactions come
back as recorded ones: the episode, deterministic given the same answers, asks the same
requests, gets them from the journal with no network, and records live from the first
request the journal does not hold. Interactions it did not ask for again are not kept, so
the cassette written at the end is the one an uninterrupted run writes.

What a journal line cannot be trusted for is dropped on reading: a torn last line (the
process died while writing it), anything after a line that does not parse, and the error
answers (4xx, 5xx) at its end - the call that got them gave up or was cut short, and
replaying them would only fail it again without asking the provider.
"""

from __future__ import annotations

import base64
import copy
import json
import os
import threading
import warnings
from pathlib import Path
from typing import Any

from vcr.cassette import Cassette
from vcr.record_mode import RecordMode
from vcr.request import Request
from vcr.serializers import compat

_BYTES = "__drift_bytes_b64__"  # a body that is not UTF-8 text (JSON has no bytes)


def journal_path(cassette: Path) -> Path:
    """Hidden and not ending in .yaml: nothing that looks for cassettes takes it for one."""
    return cassette.with_name(f".{cassette.name}.journal")


# -- one line per interaction, in vcrpy's own serialised form ----------------------------------

def _default(value: Any) -> Any:
    if isinstance(value, (bytes, bytearray)):
        return {_BYTES: base64.b64encode(bytes(value)).decode("ascii")}
    raise TypeError(f"cannot journal a {type(value).__name__}")


def _hook(obj: dict[str, Any]) -> Any:
    if len(obj) == 1 and _BYTES in obj:
        return base64.b64decode(obj[_BYTES])
    return obj


def encode(request: Any, response: dict[str, Any]) -> bytes:
    """The interaction as `vcr.serialize` turns it into a cassette's entry (copied first:
    vcrpy's conversion changes the dict it is given, and this one is still being played)."""
    entry = {"request": compat.convert_to_unicode(request._to_dict()),
             "response": compat.convert_to_unicode(copy.deepcopy(response))}
    return json.dumps(entry, default=_default, separators=(",", ":")).encode() + b"\n"


def decode(line: bytes) -> tuple[Any, dict[str, Any]]:
    """The interaction as `vcr.serialize.deserialize` reads a cassette's entry back."""
    entry = json.loads(line, object_hook=_hook)
    return Request._from_dict(entry["request"]), compat.convert_to_bytes(entry["response"])


def _status(response: dict[str, Any]) -> int:
    try:
        return int(response["status"]["code"])
    except (KeyError, TypeError, ValueError):
        return 200


def read(path: Path) -> tuple[list[tuple[Any, dict[str, Any]]], int]:
    """The journal's trustworthy interactions and the length in bytes of the lines that hold
    them (what a resumed journal keeps before appending). Missing: nothing."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        return [], 0
    entries: list[tuple[Any, dict[str, Any]]] = []
    ends: list[int] = []
    pos = 0
    while (nl := data.find(b"\n", pos)) >= 0:
        try:
            entries.append(decode(data[pos:nl]))
        except (ValueError, KeyError, TypeError):
            break  # only a torn write can make a bad line; nothing after it is trusted
        pos = nl + 1
        ends.append(pos)
    while entries and _status(entries[-1][1]) >= 400:
        entries.pop()
        ends.pop()
    return entries, (ends[-1] if ends else 0)


class Journal:
    """Appends lines to one journal file: opened at the first line (a replay creates nothing),
    cut back first to `keep` bytes (the trusted part of the journal being resumed, 0 for a
    new one), each line written whole and fsync'd."""

    def __init__(self, path: Path, keep: int = 0) -> None:
        self.path, self._keep = path, keep
        self._fd: int | None = None
        self._lock = threading.Lock()  # one episode, but a world's own agent may share its cassette
        self._broken = False

    def write(self, request: Any, response: dict[str, Any]) -> None:
        line = encode(request, response)
        with self._lock:
            if self._broken:
                return
            try:
                if self._fd is None:
                    self._open()
                view = memoryview(line)
                while view:
                    view = view[os.write(self._fd, view):]  # type: ignore[arg-type]  # _open() set it
                os.fsync(self._fd)  # type: ignore[arg-type]  # _open() set it
            except OSError as exc:
                # a full or failing disk: the episode goes on as before journals (its cassette is
                # still written at its end), rather than failing a call that was answered and paid
                self._broken = True
                warnings.warn(f"pytest-drift: journal {self.path} not written ({exc}); "
                              "this episode's calls are kept only when it ends", stacklevel=2)

    def _open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        new = not self.path.exists()
        self._fd = os.open(self.path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
        os.ftruncate(self._fd, self._keep)  # a torn tail or dropped answers go before anything is added
        if new:  # the file's name must survive a power cut too, not only its lines
            dir_fd = os.open(self.path.parent, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def close(self) -> None:
        with self._lock:
            if self._fd is not None:
                os.close(self._fd)
                self._fd = None

    def discard(self) -> None:
        """The cassette is written: the journal has nothing it lacks."""
        self.close()
        self.path.unlink(missing_ok=True)


class JournaledCassette(Cassette):
    """vcrpy's Cassette, journaling each interaction it records and able to resume a journal."""

    data: list[tuple[Any, Any]]  # vcrpy's, set in its __init__ (untyped): the (request, response) pairs
    record_mode: Any
    journal: Journal | None = None
    _resumed: tuple[int, int] = (0, 0)  # where the journal's interactions sit in `data`

    def append(self, request: Any, response: Any) -> None:
        before = len(self.data)
        super().append(request, response)
        if self.journal is not None and len(self.data) > before:  # (vcrpy's hooks may drop one)
            self.journal.write(*self.data[-1])

    def resume(self, entries: list[tuple[Any, dict[str, Any]]]) -> None:
        """Take a journal's interactions as recorded ones, as vcrpy's `_load` takes a file's,
        and record what they lack: `once` would refuse any new request once something was
        loaded, `new_episodes` plays what it holds and records the rest."""
        if not entries:
            return
        start = len(self.data)
        for request, response in entries:
            Cassette.append(self, request, response)  # scrubbed again (a no-op), not journaled again
        self._old_interactions.extend(self.data[start:])
        self._loaded_count = len(self.data)
        self._resumed = (start, len(self.data))
        self.rewound, self.dirty = True, False
        if self.record_mode == RecordMode.ONCE:
            self.record_mode = RecordMode.NEW_EPISODES

    def _save(self, force: bool = False) -> None:
        start, end = self._resumed
        if end > start:
            # keep the journal's interactions this episode asked for again (all of them, unless
            # the world changed since), in their order: the uninterrupted run's cassette
            played = [self.data[i] for i in range(start, end) if self.play_counts[i]]
            self.data = self.data[:start] + played + self.data[end:]
            self._resumed = (0, 0)
            force = force or bool(played)  # a journal that answered every call records nothing new
        super()._save(force)
