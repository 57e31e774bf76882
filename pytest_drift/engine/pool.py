"""Live episodes played at once: a pool of threads, a cost budget and the run's live figures.

A live episode spends nearly all its time waiting for the provider, so a process plays
many at once: each on a thread of its own, its requests routed to its own cassette
(`models.router`) and counted by its own meter (`models.usage`), within the endpoint's
adaptive limit (`models.ratelimit`). Whoever needs an episode's result waits for it
(`LivePool.wait`); episodes start in the order they were submitted.

Budget (`max_cost_usd`): before an episode starts, the money spent so far by this
process's live calls, plus what its running episodes are still expected to spend, plus
what the new one is expected to cost, must stay within the budget; otherwise it is not
run (and no later one is: the budget is spent). An episode is expected to cost the mean
of this process's finished episodes (before any has finished: twice the most any running
episode has spent so far), never less than it has already spent. Calls whose price
litellm does not know count as free: a budget cannot limit them (`LiveStats.unpriced`).
"""

from __future__ import annotations

import dataclasses
import gc
import sys
import threading
import time
from concurrent.futures import CancelledError, Future, ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Any

from ..models.ratelimit import Stopped, resume_calls, set_ceiling, stop_calls
from ..models.usage import CallEvent, add_listener
from .case import Case, Settings
from .play import Engine, Played

_EPISODE: ContextVar[str | None] = ContextVar("drift_episode", default=None)
# While episodes play on threads, the process is a network client: a thread that gets an
# answer should finish its turn before yielding the GIL (FIFO-like, not all stretched), and
# full collections over the long-lived session objects stall every episode at once.
# Measured with bench/live.py at 64 episodes: efficiency 0.77 -> 0.84, CPU/call 11.3 -> 8.8 ms.
SWITCH_INTERVAL_S = 0.1
GC_GEN0_THRESHOLD = 50_000


def _client_mode() -> tuple[float, tuple[int, int, int]]:
    saved = sys.getswitchinterval(), gc.get_threshold()
    gc.freeze()  # what exists now (modules, the collected session) is never scanned again
    gc.set_threshold(GC_GEN0_THRESHOLD, *saved[1][1:])
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    return saved


def _restore(saved: tuple[float, tuple[int, int, int]]) -> None:
    sys.setswitchinterval(saved[0])
    gc.set_threshold(*saved[1])
    gc.unfreeze()


def calls_model(case: Case, settings: Settings) -> bool:
    """Whether playing the case may send requests to a live model: something in it is live
    (the model, or a world's own model) and the record mode records its cassette (`once`:
    only while the cassette does not exist)."""
    if settings.record_mode == "none":
        return False
    if not case.model_id.is_model:
        env = case.scenario.build(case.variant, case.seed(settings.drift_seed))
        if not env.world_models():
            return False
    if settings.record_mode == "once":
        return not case.cassette(settings.cassette_dir).exists()
    return True


@dataclass(frozen=True)
class NotRun:
    """An episode the pool did not start (the budget was spent)."""

    case: Case
    reason: str


@dataclass
class LiveStats:
    """What the pool's episodes and this process's live calls have done so far. Thread-safe
    through the pool's lock; read it with `snapshot()`."""

    submitted: int = 0
    running: int = 0
    done: int = 0
    not_run: int = 0  # the budget was spent before they started
    stopped: int = 0  # the run stopped while they were being played
    calls: int = 0
    failed_calls: int = 0
    prompt_tokens: int = 0
    completion_tokens: int = 0
    total_tokens: int = 0
    cost_usd: float = 0.0
    unpriced: int = 0  # calls litellm could not price
    retries: int = 0
    rate_limit_waits: int = 0
    waited_s: float = 0.0
    wall_s: float = 0.0  # from the pool's start to the latest episode's end
    cpu_s: float = 0.0  # this process's CPU (every thread) over the same span
    started: float = field(default_factory=time.monotonic)
    episode_cost: dict[str, float] = field(default_factory=dict)  # running episodes' spend so far
    finished_costs: list[float] = field(default_factory=list)

    @property
    def queued(self) -> int:
        return self.submitted - self.running - self.done - self.not_run - self.stopped

    def eta_s(self) -> float | None:
        """Seconds left at the pace so far: elapsed x episodes left / episodes done."""
        if not self.done:
            return None
        left = self.queued + self.running
        return (time.monotonic() - self.started) * left / self.done

    def as_dict(self) -> dict[str, Any]:
        """The figures another process can add up (no clock, no per-episode detail)."""
        d = dataclasses.asdict(self)
        for key in ("started", "episode_cost", "finished_costs"):
            d.pop(key)
        return d

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> LiveStats:
        return cls(**{k: v for k, v in d.items() if k in _ADDED_UP or k == "wall_s"})

    @classmethod
    def total(cls, stats: list[LiveStats], started: float | None = None) -> LiveStats:
        """Every process's figures added up (wall time: the longest; the ETA from `started`)."""
        out = cls() if started is None else cls(started=started)
        for s in stats:
            for name in _ADDED_UP:
                setattr(out, name, getattr(out, name) + getattr(s, name))
            out.wall_s = max(out.wall_s, s.wall_s)
        return out

    def expected_episode_cost(self) -> float:
        if self.finished_costs:
            return sum(self.finished_costs) / len(self.finished_costs)
        return 2 * max(self.episode_cost.values(), default=0.0)


_ADDED_UP = ("submitted", "running", "done", "not_run", "stopped", "calls", "failed_calls", "prompt_tokens",
             "completion_tokens", "total_tokens", "cost_usd", "unpriced", "retries", "rate_limit_waits", "waited_s",
             "cpu_s")


class LivePool:
    """Plays submitted cases on up to `concurrency` threads with one Engine."""

    def __init__(self, engine: Engine, concurrency: int, max_cost_usd: float | None = None) -> None:
        self.engine, self.concurrency, self.max_cost_usd = engine, concurrency, max_cost_usd
        self.stats = LiveStats()
        self._cpu0 = time.process_time()
        self._lock = threading.Lock()
        self._futures: dict[str, Future[Played | NotRun]] = {}
        self._budget_spent = ""
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="drift-episode")
        self._remove_listener = add_listener(self._on_call)
        self._saved_ceiling = set_ceiling(concurrency)  # restored by close(), as the client mode is
        self._saved_mode = _client_mode()

    # -- submitting and waiting ------------------------------------------------------------------
    def submit(self, cases: list[Case]) -> int:
        """Queue the cases not queued yet, in order; returns how many were new."""
        new = 0
        with self._lock:
            for case in cases:
                if case.id not in self._futures:
                    self._futures[case.id] = self._executor.submit(self._play, case)
                    self.stats.submitted += 1
                    new += 1
        return new

    def has(self, case: Case) -> bool:
        return case.id in self._futures

    def wait(self, case: Case, timeout: float | None = None) -> Played | NotRun | None:
        """The case's result; None if it is not ready within `timeout`. An exception raised
        while playing it is raised here."""
        future = self._futures[case.id]
        try:
            return future.result(timeout)
        except TimeoutError:
            return None
        except CancelledError:
            return NotRun(case, "not run: the run stopped before it started")

    def close(self, abandon: bool = False) -> None:
        """Start nothing more and wait for the running episodes: to finish (and save their
        cassettes), or with `abandon` to stop at their next model call (saving nothing: a
        later `--record-mode=once` plays them again)."""
        if abandon:
            stop_calls()
        try:
            self._executor.shutdown(wait=True, cancel_futures=True)
        finally:
            resume_calls()
            self._remove_listener()
            set_ceiling(self._saved_ceiling)
            _restore(self._saved_mode)

    # -- on the pool's threads -------------------------------------------------------------------
    def _play(self, case: Case) -> Played | NotRun:
        with self._lock:
            reason = self._over_budget()
            if reason:
                self.stats.not_run += 1
                return NotRun(case, reason)
            self.stats.running += 1
            self.stats.episode_cost[case.id] = 0.0
        token = _EPISODE.set(case.id)
        stopped = False
        try:
            return self.engine.play(case)
        except Stopped:
            stopped = True
            return NotRun(case, "not run: the run stopped while it was being played")
        finally:
            _EPISODE.reset(token)
            with self._lock:
                s = self.stats
                s.running -= 1
                s.stopped += stopped
                s.done += not stopped
                s.finished_costs.append(s.episode_cost.pop(case.id, 0.0))
                s.wall_s, s.cpu_s = time.monotonic() - s.started, time.process_time() - self._cpu0

    def _over_budget(self) -> str:
        """Why the next episode must not start ("" if it may); once spent, stays spent."""
        if self.max_cost_usd is None or self._budget_spent:
            return self._budget_spent
        s = self.stats
        typical = s.expected_episode_cost()
        in_flight = sum(max(0.0, typical - spent) for spent in s.episode_cost.values())
        if s.cost_usd + in_flight + typical > self.max_cost_usd:
            self._budget_spent = (f"not run: --drift-max-cost {self.max_cost_usd:g} USD reached (spent "
                                  f"{s.cost_usd:.4f} USD, {s.running} running, ~{typical:.4f} USD an episode)")
        return self._budget_spent

    def _on_call(self, event: CallEvent) -> None:
        if not event.sent:
            return
        with self._lock:
            s = self.stats
            s.retries += event.retries
            s.rate_limit_waits += event.rate_limit_waits
            s.waited_s += event.waited_s
            if event.usage is None:
                s.failed_calls += 1
                return
            u = event.usage
            s.calls += 1
            s.prompt_tokens += u.prompt_tokens
            s.completion_tokens += u.completion_tokens
            s.total_tokens += u.total_tokens
            if u.cost_usd is None:
                s.unpriced += 1
                return
            s.cost_usd += u.cost_usd
            episode = _EPISODE.get()
            if episode is not None and episode in s.episode_cost:
                s.episode_cost[episode] += u.cost_usd

    def snapshot(self) -> LiveStats:
        """A copy of the figures, consistent at one instant."""
        with self._lock:
            s = self.stats
            return dataclasses.replace(s, episode_cost=dict(s.episode_cost), finished_costs=list(s.finished_costs))
