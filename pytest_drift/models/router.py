"""Each request to the cassette of the episode that made it, however many episodes run at once.

vcrpy patches HTTP libraries process-wide, and each patch holds the one cassette it was
made for: two cassettes open at once (episodes on threads) would take each other's
requests, and closing one would unpatch the other. So the patches are made once, for a
router that looks up the cassette of the calling thread or asyncio task (a context
variable) at every request. Outside any cassette a request passes through, as it does
when nothing is patched. The patches stay while any cassette is open.

The cassette objects are vcrpy's own (`Cassette.load`, `_save`), so what is matched,
played and written is exactly what vcrpy does for one cassette at a time. Only this
module imports vcrpy's patching, and only when a cassette opens.
"""

from __future__ import annotations

import threading
from contextlib import ExitStack, contextmanager
from contextvars import ContextVar
from typing import Any, Iterator

_CURRENT: ContextVar[Any] = ContextVar("drift_cassette", default=None)
_LOCK = threading.Lock()
_open = 0
_patches: ExitStack | None = None
_passthrough: Any = None


def current_cassette() -> Any:
    """The vcrpy Cassette of the calling context, or None."""
    return _CURRENT.get()


def replaying() -> bool:
    """The calling context's cassette only plays (record mode none, or once with a file):
    no request reaches a provider, so nothing should wait for one."""
    cassette = _CURRENT.get()
    return cassette is not None and bool(cassette.write_protected)


def played_count() -> int:
    """How many answers the calling context's cassette has served from its recording. A
    resumed episode (`journal`) records, yet replays its answered calls: a call during which
    this grew reached no provider and cost nothing now."""
    cassette = _CURRENT.get()
    return 0 if cassette is None else cassette.play_count


def _no_cassette() -> Any:  # (never `_CURRENT.get() or ...`: an empty Cassette is falsy)
    """What a request outside every cassette sees: record-everything, keep nothing."""
    global _passthrough
    if _passthrough is None:
        from vcr.cassette import Cassette
        from vcr.record_mode import RecordMode

        class PassThrough(Cassette):
            def append(self, request: Any, response: Any) -> None:
                pass

        _passthrough = PassThrough("<no cassette>", record_mode=RecordMode.ALL)
    return _passthrough


class _Router:
    """Stands where vcrpy's patches expect a cassette; every attribute is the calling
    context's cassette's."""

    custom_patches = ()  # read once, when the patches are built
    skip_patchers = ()

    @property
    def _path(self) -> str:
        cassette = _CURRENT.get()
        return "pytest-drift" if cassette is None else str(cassette._path)

    def can_play_response_for(self, request: Any) -> bool:
        """vcrpy's answer, without matching the request against every recorded one when the
        cassette cannot play anyway (record mode all, or a cassette started empty): the same
        conditions vcrpy checks, in the cheaper order."""
        cassette = _CURRENT.get()
        if cassette is None:
            return False
        if cassette.record_mode == "all" or not (cassette.rewound or cassette.allow_playback_repeats):
            return False
        return bool(cassette.can_play_response_for(request))

    def _cassette(self) -> Any:
        cassette = _CURRENT.get()
        return _no_cassette() if cassette is None else cassette

    def __len__(self) -> int:  # dunders bypass __getattr__ (vcrpy's miss error asks for len())
        return len(self._cassette())

    def __contains__(self, request: Any) -> bool:
        return request in self._cassette()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cassette(), name)


_ROUTER = _Router()


def _acquire() -> None:
    global _open, _patches
    with _LOCK:
        if _open == 0:
            from vcr.patch import CassettePatcherBuilder

            _no_cassette()
            stack = ExitStack()
            for patcher in CassettePatcherBuilder(_ROUTER).build():
                stack.enter_context(patcher)
            _patches = stack
        _open += 1


def _release() -> None:
    global _open, _patches
    with _LOCK:
        _open -= 1
        if _open == 0 and _patches is not None:
            _patches.close()
            _patches = None


@contextmanager
def routed(cassette: Any) -> Iterator[Any]:
    """Send this context's requests (this thread's, this task's) to `cassette`."""
    _acquire()
    token = _CURRENT.set(cassette)
    try:
        yield cassette
    finally:
        _CURRENT.reset(token)
        _release()


def patched() -> bool:
    return _patches is not None
