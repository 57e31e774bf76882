"""Live runs: episodes that call a model played at once (`--drift-concurrency`), a cost
budget (`--drift-max-cost`), a deterministic share of the episodes (`--drift-shard`), the
plan announced before the run and progress during it.

Tests keep their ids, order and fixtures: when the test loop starts, every collected case
of this process that will call a model (`engine.pool.calls_model`) is handed to a
`LivePool`, and each test's `episode` fixture waits for its own case. Replays and scripted
policies are played when their test asks, as before. Under xdist each worker hands its
pool the tests it has been sent (and, while a test waits, those it is sent meanwhile); for
xdist's `load` becomes `loadgroup` (each episode's tests, and each prefix's branches, stay in
one worker), and a live run sends every worker its whole share at once, so each plays its
share together from the start (`DriftGroupScheduling`).
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from .fixtures import EPISODES
from .options import OPTIONS, case_of, plain_nodeid
from .progress import Progress, Relay, Snapshots, figures

if TYPE_CHECKING:
    from ..engine import Case, Played
    from ..engine.pool import LivePool

PROGRESS_DIR = "drift_progress_dir"  # workerinput key
LOADGROUP = "drift_loadgroup"  # workerinput key: the controller made -n's `load` into `loadgroup`
WAIT_TICK = 0.25  # seconds between looks at a waited-for episode (and progress redraws)


@dataclass(frozen=True)
class LiveOptions:
    concurrency: int
    max_cost: float | None
    shard: tuple[int, int] | None
    progress: str
    progress_every: float

    @classmethod
    def from_config(cls, config: pytest.Config) -> LiveOptions:
        """This process's share of the run's options (the budget split between xdist workers)."""
        options = config.stash[OPTIONS]
        max_cost = options.max_cost
        workers = getattr(config, "workerinput", {}).get("workercount")
        if max_cost is not None and workers:
            max_cost = max_cost / workers
        return cls(options.concurrency, max_cost, options.shard, options.progress, options.progress_every)


# -- shards ------------------------------------------------------------------------------------

def shard_key(item: pytest.Item) -> str:
    """What decides an item's shard: its xdist group (branches of one prefix stay together),
    else its episode id, else its node id."""
    group = item.get_closest_marker("xdist_group")
    if group is not None and (group.args or group.kwargs.get("name")):
        return str(group.args[0] if group.args else group.kwargs["name"])  # a drift episode's: its id
    case = _case_of(item)
    return case.id if case is not None else item.nodeid


def in_shard(key: str, shard: tuple[int, int]) -> bool:
    k, n = shard
    return int(hashlib.sha256(key.encode()).hexdigest()[:12], 16) % n == k - 1


def _case_of(item: pytest.Item) -> Case | None:
    return case_of(item)


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = config.stash[LIVE].options.shard
    if shard is None:
        return
    keep: list[pytest.Item] = []
    drop: list[pytest.Item] = []
    for item in items:
        (keep if in_shard(shard_key(item), shard) else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


# -- this process's live episodes ----------------------------------------------------------------

class Live:
    """The live cases of this process, the pool that plays them and the progress shown."""

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.options = LiveOptions.from_config(config)
        self.pool: LivePool | None = None
        self.checked: set[str] = set()  # case ids already looked at
        self.fed: set[int] = set()  # xdist: item indices already looked at
        self.progress = Progress(config, self.options.progress if not hasattr(config, "workerinput") else "off",
                                 self.options.progress_every)
        self.worker_stats: list[dict[str, Any]] = []
        folder = getattr(config, "workerinput", {}).get(PROGRESS_DIR)
        self.snapshots = Snapshots(Path(folder)) if folder else None  # an xdist worker's figures, for the controller
        self.relay: Relay | None = None  # the xdist controller's progress

    @property
    def settings(self) -> Any:
        return self.config.stash[EPISODES].engine.settings

    def live_cases(self, candidates: list[Case]) -> list[Case]:
        """The distinct cases among `candidates`, not looked at before, that will call a model
        the pool can serve at once (the embedded model's server answers one request at a time:
        episodes at once would only evict its prompt cache, so its episodes play in turn)."""
        out: list[Case] = []
        if not candidates:
            return out
        from ..engine.pool import calls_model

        for case in candidates:
            if case.id in self.checked:
                continue
            self.checked.add(case.id)
            if not case.model_id.is_local and calls_model(case, self.settings):
                out.append(case)
        return out

    def feed(self, items: list[pytest.Item]) -> None:
        self.feed_cases([c for c in (_case_of(i) for i in items) if c is not None])

    def feed_cases(self, candidates: list[Case]) -> None:
        """Hand the pool those of the cases that will call a model (creating it on the first)."""
        cases = self.live_cases(candidates)
        if not cases or self.options.concurrency <= 1:
            return
        if self.pool is None:
            from ..engine.pool import LivePool
            from ..models import litellm_module

            litellm_module()  # import once here, not on every episode thread at once
            self.pool = LivePool(self.config.stash[EPISODES].engine, self.options.concurrency, self.options.max_cost)
        self.pool.submit(cases)

    def feed_from_xdist(self) -> None:
        """A worker's share: the tests xdist has sent it and not yet run (the next one, which
        xdist has already taken from its queue, and the queue)."""
        interactor = _worker_interactor(self.config)
        if interactor is None:
            return
        with interactor.torun.lock() as pending:
            indices = [i for i in [interactor.nextitem_index, *pending] if isinstance(i, int) and i not in self.fed]
        self.fed.update(indices)
        session_items = self.config.stash[EPISODES_ITEMS]
        self.feed([session_items[i] for i in indices if i < len(session_items)])

    def wait(self, case: Case) -> Played | None:
        """The case's episode from the pool, waited for (None if the pool does not play it:
        the caller plays it). Skips the test when the budget left the episode unplayed."""
        if hasattr(self.config, "workerinput") and self.options.concurrency > 1:
            self.feed_cases([case])
            self.feed_from_xdist()
        if self.pool is None or not self.pool.has(case):
            return None
        try:
            while True:
                result = self.pool.wait(case, WAIT_TICK)
                if result is not None:
                    break
                if hasattr(self.config, "workerinput"):
                    self.feed_from_xdist()
                stats = self.pool.snapshot()
                self.progress.tick(stats)
                if self.snapshots is not None:
                    self.snapshots.write(self.config.workerinput["workerid"], stats)  # type: ignore[attr-defined]  # xdist sets workerinput
        finally:
            self.progress.pause()
        from ..engine.pool import NotRun

        if isinstance(result, NotRun):
            pytest.skip(result.reason)
        return result

    def close(self, abandon: bool) -> None:
        """The session ends. Episodes still running (the run was interrupted or stopped at a
        failure) are abandoned at their next model call, leaving no cassette."""
        self.progress.close()
        if self.pool is None:
            return
        left = self.pool.snapshot()
        if left.running and abandon:
            self.progress.line(left, f"pytest-drift: stopping {left.running} running episodes (no cassette is "
                                     "written for them; --record-mode=once plays them again): ")
        elif left.running:
            self.progress.line(left, f"pytest-drift: waiting for {left.running} running episodes: ")
        self.pool.close(abandon=abandon)


LIVE = pytest.StashKey[Live]()
PROGRESS_FOLDER = pytest.StashKey[Path]()  # the controller's folder of workers' snapshots
EPISODES_ITEMS = pytest.StashKey[list[pytest.Item]]()


def _worker_interactor(config: pytest.Config) -> Any:
    """xdist's worker side: `torun`, the queue of test indices sent to this worker and not
    taken yet (a `TestQueue`, read under its lock), and `nextitem_index`; or None."""
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "WorkerInteractor" and hasattr(plugin, "torun"):
            return plugin
    return None


def _version(dist: str) -> tuple[int, ...]:
    from importlib.metadata import version

    from packaging.version import Version  # pytest's own dependency

    return Version(version(dist)).release


def check_loadgroup(pytest_version: tuple[Any, ...], xdist_version: tuple[int, ...]) -> None:
    """Refuse --dist loadgroup where it does not group: pytest 9.2 builds node ids from a structured id,
    so the `@group` suffix pytest-xdist (up to 3.8) sets as `item._nodeid` is lost; the scheduler would
    then send one episode's tests to two workers, each playing (and paying for) it."""
    if tuple(pytest_version[:2]) >= (9, 2) and xdist_version[:2] <= (3, 8):
        raise pytest.UsageError(
            f"pytest-drift: pytest {'.'.join(map(str, pytest_version[:3]))} with pytest-xdist "
            f"{'.'.join(map(str, xdist_version))} loses --dist loadgroup's groups, so -n could play one episode "
            "in two workers and pay for it twice: install pytest<9.2 (the plugin's own pin) or run without -n")


@pytest.hookimpl(trylast=True)  # after fixtures' (the Episodes it hands the pool's results to)
def pytest_configure(config: pytest.Config) -> None:
    from .catalogue import MODELS

    # -n's default, in a run that records drift episodes (a suite that merely has the plugin
    # installed keeps its own, and so does a replay: xdist's loadgroup re-runs a test that crashed
    # its worker); set here, before xdist starts its workers, which read it to group their tests
    if (getattr(config.option, "dist", None) == "load" and config.stash[OPTIONS].record_mode != "none"
            and config.stash.get(MODELS, None)):
        config.option.dist = "loadgroup"
    if getattr(config.option, "dist", None) == "loadgroup" and not hasattr(config, "workerinput"):
        check_loadgroup(pytest.version_tuple, _version("pytest-xdist"))
    # a worker parses only the command line: it reads loadgroup from there, before this hook,
    # and without it sends the controller its tests' ids without their `@group`, so the
    # scheduler, seeing no groups, could send one episode's tests to both workers
    if getattr(config, "workerinput", {}).get(LOADGROUP):
        config.option.loadgroup = True
    config.stash[LIVE] = Live(config)
    if config.pluginmanager.hasplugin("xdist"):
        config.pluginmanager.register(_XdistHooks(), "drift-live-xdist")


def pytest_drift_played_elsewhere(config: pytest.Config, case: Case) -> Played | None:
    """A case the pool plays: its episode, waited for (the `episode` fixture asks)."""
    return config.stash[LIVE].wait(case)


@pytest.hookimpl(trylast=True)
def pytest_collection_finish(session: pytest.Session) -> None:
    config = session.config
    config.stash[EPISODES_ITEMS] = session.items
    if hasattr(config, "workerinput"):
        return
    live = config.stash[LIVE]
    cases = [c for c in (_case_of(i) for i in session.items) if c is not None]
    _announce(config, live, {c.id: c for c in cases})


def _announce(config: pytest.Config, live: Live, cases: dict[str, Case]) -> int:
    """Before a live run: how many episodes will call the model and how many replay (returns
    the first number)."""
    if not cases or live.config.stash[OPTIONS].record_mode == "none":
        return 0
    settings = live.settings
    from ..engine.pool import calls_model

    calling = [c for c in cases.values() if calls_model(c, settings)]
    ids = {c.id for c in calling}
    models = len(calling) + sum(c.model_id.is_model for c in cases.values() if c.id not in ids)
    if not models:
        return 0
    replay = models - len(calling)
    why = {"once": "no cassette yet", "new_episodes": "recording new requests",
           "all": "re-recording", "rewrite": "re-recording"}[settings.record_mode]
    at_once = live.options.concurrency > 1 and any(not c.model_id.is_local for c in calling)
    per = f"{live.options.concurrency} at once per process" if at_once else "one at a time"
    tr = config.pluginmanager.getplugin("terminalreporter")
    if tr is not None:
        tr.write_line(f"pytest-drift: {len(calling)} episodes will call the model ({why}; {per}), "
                      f"{replay} replay from cassettes")
    _preflight(config, calling, settings)
    return len(calling)


def _preflight(config: pytest.Config, calling: list[Case], settings: Any) -> None:
    """Before the first paid call: calls, tokens and cost expected per model; stop here when
    --drift-plan asks only for that, or when the estimate is above --drift-max-cost."""
    from ..engine.estimate import estimate, expected_cost, plan_lines, unpriced

    if not calling:
        return
    estimates = estimate(calling, settings)
    tr = config.pluginmanager.getplugin("terminalreporter")
    if tr is not None:
        for line in ["pytest-drift plan (an estimate: docs/architecture.md, Preflight):", *plan_lines(estimates)]:
            tr.write_line(line)
    options = config.stash[OPTIONS]
    budget = options.max_cost
    blind = unpriced(estimates)
    if budget is not None and blind and tr is not None:
        tr.write_line(f"pytest-drift: warning: --drift-max-cost {budget:g} does not count unpriced models "
                      f"({', '.join(blind)}); give them input_per_mtok / output_per_mtok in --drift-config models:")
    if options.plan:
        pytest.exit("--drift-plan: the plan above; no model was called", returncode=0)
    cost = expected_cost(estimates)
    if budget is not None and cost > budget:
        pytest.exit(f"--drift-max-cost {budget:g}: the run is expected to cost ${cost:,.2f} "
                    f"({sum(m.episodes for m in estimates)} episodes, at most {sum(m.calls_max for m in estimates):,} "
                    "calls); nothing was called. Raise the budget, or select fewer episodes (-k, --drift-shard)",
                    returncode=pytest.ExitCode.USAGE_ERROR)


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> None:
    """Hand every live case of this process to the pool before the first test runs."""
    config = session.config
    if session.testsfailed and not config.option.continue_on_collection_errors:
        return  # collection errors: the run stops before any test
    if not hasattr(config, "workerinput") and not config.option.collectonly:
        config.stash[LIVE].feed(session.items)


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    live = config.stash.get(LIVE, None)
    if live is None:
        return
    live.close(abandon=exitstatus == pytest.ExitCode.INTERRUPTED or bool(session.shouldfail or session.shouldstop))
    if live.pool is not None and hasattr(config, "workeroutput"):
        config.workeroutput["drift_live"] = live.pool.snapshot().as_dict()
    if live.pool is not None and live.snapshots is not None:
        live.snapshots.write(config.workerinput["workerid"], live.pool.snapshot(), force=True)  # type: ignore[attr-defined]  # xdist sets it
    if live.relay is not None:
        live.relay.stop()
    folder = config.stash.get(PROGRESS_FOLDER, None)
    if folder is not None:
        shutil.rmtree(folder, ignore_errors=True)


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    live = config.stash.get(LIVE, None)
    if live is None:
        return
    if live.pool is None and not live.worker_stats:
        return
    from ..engine.pool import LiveStats

    stats = [live.pool.snapshot()] if live.pool is not None else []
    stats += [LiveStats.from_dict(d) for d in live.worker_stats]
    total = LiveStats.total(stats)
    terminalreporter.write_sep("-", "pytest-drift live")
    cpu = f"; client CPU {1000 * total.cpu_s / total.calls:.1f} ms per call" if total.calls else ""
    terminalreporter.write_line(f"{total.done} episodes played live in {total.wall_s:.1f}s: {figures(total)}{cpu}")
    if total.not_run:
        terminalreporter.write_line(f"{total.not_run} episodes not run: --drift-max-cost reached", yellow=True)
    if total.stopped:
        terminalreporter.write_line(f"{total.stopped} episodes stopped unfinished when the run stopped (no cassette "
                                    "written)", yellow=True)
    if total.failed_calls:
        terminalreporter.write_line(f"{total.failed_calls} model calls failed after their retries "
                                    "(their episodes are labelled unknown, not scored)", yellow=True)


# -- xdist (registered only where it is installed) ---------------------------------------------------

class _XdistHooks:
    def __init__(self) -> None:
        self.announced = False  # the controller's plan line is printed once, for the first node's ids

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_make_scheduler(self, config: pytest.Config, log: Any) -> Any:
        """A live run under --dist loadgroup: every worker gets its whole share at once."""
        live = config.stash[LIVE]
        options = config.stash[OPTIONS]
        if config.getvalue("dist") != "loadgroup" or options.record_mode == "none" or live.options.concurrency <= 1:
            return None
        return _drift_group_scheduling(config, log)

    @pytest.hookimpl(optionalhook=True)
    def pytest_xdist_node_collection_finished(self, node: Any, ids: list[str]) -> None:
        live = node.config.stash[LIVE] if hasattr(node, "config") else None
        if live is None or self.announced:
            return
        self.announced = True
        calling = _announce(node.config, live, _cases_from_ids(node.config, ids))
        folder = node.config.stash.get(PROGRESS_FOLDER, None)
        if calling and folder is not None and live.options.concurrency > 1:
            live.relay = Relay(live.progress, Snapshots(folder), live.options.progress_every)

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node: Any) -> None:
        """Tell each worker whether its tests are grouped (pytest_configure) and where to leave
        its live figures (the controller shows them)."""
        config = node.config
        if config.getvalue("dist") == "loadgroup":
            node.workerinput[LOADGROUP] = True
        if config.stash[LIVE].options.progress == "off" or config.stash[OPTIONS].record_mode == "none":
            return
        if PROGRESS_FOLDER not in config.stash:
            config.stash[PROGRESS_FOLDER] = Path(tempfile.mkdtemp(prefix="drift-progress-"))
        node.workerinput[PROGRESS_DIR] = str(config.stash[PROGRESS_FOLDER])

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any, error: Any) -> None:
        out = getattr(node, "workeroutput", None) or {}
        if "drift_live" in out:
            node.config.stash[LIVE].worker_stats.append(out["drift_live"])


def _cases_from_ids(config: pytest.Config, ids: list[str]) -> dict[str, Case]:
    """The controller collects nothing under xdist: the selected cases from the node ids."""
    from .collection import run_cases

    known = {c.id: c for c in run_cases(config)}
    out: dict[str, Case] = {}
    for nodeid in ids:
        nodeid = plain_nodeid(nodeid)
        param = nodeid[nodeid.find("[") + 1:-1] if nodeid.endswith("]") else ""
        if param in known:
            out[param] = known[param]
    return out


def _drift_group_scheduling(config: pytest.Config, log: Any) -> Any:
    from xdist.scheduler import LoadGroupScheduling

    class DriftGroupScheduling(LoadGroupScheduling):
        """--dist loadgroup, but every worker is sent its whole share of groups at once (a live
        episode's test waits for its episode: a worker plays together only the tests it has)."""

        def schedule(self) -> None:
            first = self.collection is None
            super().schedule()
            if not first or not self.workqueue or not self.nodes:
                return
            while self.workqueue:
                for node in self.nodes:
                    if self.workqueue:
                        self._assign_work_unit(node)
            for node in self.nodes:
                node.shutdown()

    return DriftGroupScheduling(config, log)
