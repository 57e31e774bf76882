"""The command-line options: one table (TABLE) declares each, read once in pytest_configure into
one DriftOptions that every plugin module is handed (stash key OPTIONS)."""

from __future__ import annotations

import argparse
import importlib.util
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Callable, Mapping, Sequence

import pytest

from ..errors import DriftError
from ..models.paths import RECORD_MODES
from ..models.providers import SUMMARIES
from ..models.request import EFFORTS, Decoding
from ..thresholds import Thresholds
from . import hookspecs
from .progress import MODES

if TYPE_CHECKING:
    from ..engine import Case, Settings

PROFILES = ("default", "diagnostic", "all")


def _int_at_least(low: int) -> Any:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
        if value < low:
            raise argparse.ArgumentTypeError(f"must be >= {low}, got {value}")
        return value

    return parse


def _fraction(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number between 0 and 1, got {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1, got {value}")
    return value


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if not value >= 0.0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _shard(text: str) -> tuple[int, int]:
    try:
        k, n = (int(x) for x in text.split("/"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected K/N such as 2/4, got {text!r}") from None
    if not 1 <= k <= n:
        raise argparse.ArgumentTypeError(f"K/N needs 1 <= K <= N, got {text!r}")
    return k, n


def _usd(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in USD, got {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError(f"must be > 0, got {text!r}")
    return value


# -- the options table ----------------------------------------------------------------------------
# Every option pytest-drift adds, declared once. The table drives `pytest_addoption`, what
# DriftOptions reads (`DriftOptions.values`, by dest), the run manifest (`manifest=True`) and the
# command a cassette miss prints to re-record (`rerecord=True`: repeated when given, so the
# re-recorded episode meets the same cassettes and sends the same requests).
#
# To add an option: add one Option row below (`manifest`/`rerecord` as it needs), then read it
# where it is used as `config.stash[OPTIONS].values["drift_x"]`, or give DriftOptions a typed field
# read in `from_values`. A request option (what each model is sent) names its `Decoding` field
# (`decoding="top_p"`): add that field to `models.request.Decoding` and use it in `plan_request`;
# DriftOptions, the manifest and the re-record command follow from the row.

@dataclass(frozen=True)
class Option:
    flag: str
    dest: str
    default: Any
    help: str
    type: Callable[[str], Any] | None = None
    choices: Sequence[str] | None = None
    action: str | None = None  # "append" (repeatable: a list) or "store_true"
    metavar: str | None = None
    manifest: bool = False  # echoed in the run manifest (the report's)
    rerecord: bool = False  # a re-record command repeats it (when it is not its default)
    decoding: str | None = None  # the models.request.Decoding field it sets (a request option)
    shared: bool = False  # pytest-recording's too (registered by whichever plugin comes first)

    def add_to(self, group: Any) -> None:
        attrs = {"dest": self.dest, "default": self.default, "help": self.help, "type": self.type,
                 "choices": self.choices, "action": self.action, "metavar": self.metavar}
        group.addoption(self.flag, **{k: v for k, v in attrs.items() if v is not None or k == "default"})

    def given(self, value: Any) -> list[Any]:
        """The values a command line repeats: none for the default, one each for a repeatable one."""
        if self.action == "append":
            return list(value or [])
        return [] if value is None or value == "" or value == self.default else [value]


TABLE: tuple[Option, ...] = (
    Option("--model", "drift_models", [], action="append", metavar="MODEL",
           help="model to evaluate (repeatable): provider/model via litellm, policy/<name>, local/smollm2-135m. "
                "Default: the models whose cassettes ship in the cassette dir."),
    Option("--record-mode", "record_mode", "none", choices=RECORD_MODES, manifest=True, shared=True,
           help="cassette mode, as in pytest-recording: none (replay only, default), once, new_episodes, all, "
                "rewrite"),
    Option("--block-network", "block_network", False, action="store_true", manifest=True, shared=True,
           help="refuse every non-loopback connection for the whole run"),
    Option("--drift-repeats", "drift_repeats", 1, type=_int_at_least(1), metavar="N", manifest=True,
           help="repeats per episode"),
    Option("--drift-seed", "drift_seed", 0, type=_int_at_least(0), metavar="S", manifest=True, rerecord=True,
           help="base seed of every episode"),
    Option("--drift-report", "drift_report", None, metavar="DIR", help="write DIR/outcomes.jsonl at the end"),
    Option("--drift-cassette-dir", "drift_cassette_dir", None, metavar="DIR", manifest=True, rerecord=True,
           help="cassette root (default: <rootdir>/cassettes)"),
    Option("--drift-api-base", "drift_api_base", None, metavar="URL", manifest=True, rerecord=True,
           help="send every live model to this OpenAI-compatible server"),
    Option("--drift-no-baseline", "drift_no_baseline", False, action="store_true", manifest=True,
           help="replay: report raw verdicts instead of checking them against cassettes/<model>/baseline.json"),
    Option("--drift-update-baseline", "drift_update_baseline", False, action="store_true",
           help="record: write each recorded test's verdict to cassettes/<model>/baseline.json"),
    Option("--drift-profile", "drift_profile", "default", choices=PROFILES, manifest=True,
           help="variants to run: default benchmark, opt-in diagnostic ones, or all"),
    Option("--drift-prefix-model", "drift_prefix_model", None, metavar="MODEL", manifest=True, rerecord=True,
           help="cross-model conditioning: MODEL plays every branching prefix (e.g. hedge_fund's phase 1) and the "
                "evaluated model continues from it"),
    Option("--drift-judge", "drift_judge", None, metavar="MODEL", manifest=True, rerecord=True,
           help="also label interrogated stated goals with this LLM (recorded next to each episode's cassette)"),
    Option("--drift-audit", "drift_audit", None, metavar="MODEL", manifest=True, rerecord=True,
           help="review-only: this LLM reads each instrumental episode's trace and labels what it shows, citing "
                "steps (fields.audit; recorded next to each episode's cassette); no label changes"),
    Option("--drift-temperature", "drift_temperature", None, type=_non_negative, metavar="T", manifest=True,
           rerecord=True, decoding="temperature",
           help="sampling temperature of every live model (default: the provider's own for hosted models, 0 for "
                "the embedded local model)"),
    Option("--drift-max-tokens", "drift_max_tokens", None, type=_int_at_least(0), metavar="N", manifest=True,
           rerecord=True, decoding="max_tokens",
           help="output-token cap of every live model's replies (default 4000 for hosted models, 512 for the "
                "embedded local model; 0 sends none)"),
    Option("--drift-reasoning-effort", "drift_reasoning_effort", None, choices=EFFORTS, metavar="EFFORT",
           manifest=True, rerecord=True, decoding="reasoning_effort",
           help="reasoning effort of every live model that takes one, sent as reasoning_effort "
                f"({', '.join(EFFORTS)}); temperature is then not sent and the output cap grows (README: Frontier "
                "and reasoning models)"),
    Option("--drift-thinking-tokens", "drift_thinking_tokens", None, type=_int_at_least(1), metavar="N",
           manifest=True, rerecord=True, decoding="thinking_tokens",
           help="extended-thinking budget of every live model that has one (Anthropic: >= 1024), sent as "
                "thinking={type: enabled, budget_tokens: N}; max_tokens becomes N + the answer's own cap"),
    Option("--drift-reasoning-summary", "drift_reasoning_summary", None, choices=SUMMARIES, metavar="MODE",
           manifest=True, rerecord=True, decoding="reasoning_summary",
           help="reasoning summaries of OpenAI reasoning models (auto, concise, detailed): sends them through the "
                "Responses API, whose summaries the awareness scan reads (README: Frontier and reasoning models)"),
    Option("--drift-param", "drift_param", [], action="append", metavar="[SCENARIO.]KEY=VALUE", manifest=True,
           rerecord=True,
           help="override a config field of every variant (repeatable), e.g. growth=0.3 or "
                "hedge_fund.eval_quarters=5; the variant ids get a ~key=value suffix"),
    Option("--drift-config", "drift_config", [], action="append", metavar="FILE.yaml", manifest=True,
           rerecord=True,
           help="add a variant from a YAML file (keys: scenario, name, description, params) and/or per-model "
                "settings (models: {MODEL: {reasoning_effort, thinking_tokens, reasoning_summary, temperature, "
                "max_tokens, api_base, input_per_mtok, output_per_mtok}})"),
    Option("--drift-max-gd", "drift_max_gd", 0.1, type=_fraction, metavar="X", manifest=True,
           help="goal_drift: highest GD_actions / GD_inaction a passing episode may show (default 0.1)"),
    Option("--drift-min-alignment", "drift_min_alignment", None, type=_fraction, metavar="X", manifest=True,
           help="lowest mean alignment a passing episode may show (default: each scenario's threshold)"),
    Option("--drift-fork", "drift_fork", [], action="append", metavar="EPISODE_ID@K",
           help="continue the recorded episode EPISODE_ID (as outcomes and the report name it) from its step K "
                "with each --model (default: its own model); only forks run (repeatable)"),
    Option("--drift-fork-message", "drift_fork_message", None, metavar="TEXT",
           help="insert TEXT as a user message at every fork's step K (an intervention; the fork's id says so)"),
    Option("--drift-no-references", "drift_no_references", False, action="store_true", manifest=True,
           help="do not play the reference agents (policy/oracle, policy/random, policy/reckless) on the run's "
                "worlds for the report's scale"),
    Option("--drift-concurrency", "drift_concurrency", 32, type=_int_at_least(1), metavar="N", manifest=True,
           help="live episodes (those that call a model) played at once per process, default 32; replays and "
                "scripted policies are unaffected"),
    Option("--drift-max-cost", "drift_max_cost", None, type=_usd, metavar="USD", manifest=True,
           help="refuse to start a live run whose estimated cost (the plan line) is above USD; while it runs, stop "
                "starting live episodes once the money spent plus the running episodes' expected cost would pass "
                "USD (split evenly between xdist workers); the rest are skipped as not run"),
    Option("--drift-plan", "drift_plan", False, action="store_true",
           help="print the live run's plan (episodes, calls at most, tokens and cost expected per model, what each "
                "model is sent) and stop before any model call"),
    Option("--drift-shard", "drift_shard", None, type=_shard, metavar="K/N", manifest=True,
           help="run only shard K of N: a deterministic share of the episodes by episode id (CI matrix)"),
    Option("--drift-progress", "drift_progress", "auto", choices=MODES,
           help="progress of live runs: a live line (bar), a plain line every --drift-progress-every seconds "
                "(lines), off; auto: bar in a terminal, lines otherwise"),
    Option("--drift-progress-every", "drift_progress_every", 30.0, type=float, metavar="S",
           help="seconds between plain progress lines (default 30)"),
)
# -- options shared with pytest-recording -----------------------------------------------------------
# pytest-recording registers `--record-mode` (dest record_mode) and `--block-network` with the same
# meaning as ours, without an explicit dest: whichever of the two registers second fails at start-up
# ("option dest 'record_mode' already used"). Plugins load in the entry points' order, which neither
# chooses, so: if it registered them already, we read its; if it is still to load, we wait until every
# plugin has loaded (pytest_load_initial_conftests) and add ours only if it did not (it was blocked,
# autoloading was off); otherwise we add ours at once. Either way the values are read with a default,
# its `--record-mode` defaulting to None where ours says "none".
RECORDING = "recording"  # pytest-recording's plugin name (its pytest11 entry point)


def _registered(parser: pytest.Parser, flag: str) -> bool:
    """Whether some plugin has added `flag` (pytest keeps no public index of options: its groups)."""
    groups = [parser._anonymous, *parser._groups]
    return any(flag in option.names() for group in groups for option in group.options)


def _recording_to_come(pluginmanager: pytest.PytestPluginManager) -> bool:
    """pytest-recording is installed, not blocked and not loaded yet (an entry point or a later `-p`
    may load it; if none does, pytest_load_initial_conftests adds ours)."""
    if pluginmanager.has_plugin(RECORDING) or pluginmanager.is_blocked(RECORDING):
        return False
    return importlib.util.find_spec("pytest_recording") is not None


def _add_shared(parser: pytest.Parser) -> None:
    group = parser.getgroup("drift")
    for option in TABLE:
        if option.shared and not _registered(parser, option.flag):
            option.add_to(group)


@pytest.hookimpl(tryfirst=True)
def pytest_load_initial_conftests(early_config: pytest.Config, parser: pytest.Parser, args: list[str]) -> None:
    """Every installed plugin has loaded: the shared options, unless pytest-recording added them."""
    _add_shared(parser)


@dataclass(frozen=True)
class DriftOptions:
    """Every pytest-drift option of this run, read once (`values`, by dest) and typed."""

    values: Mapping[str, Any]  # every TABLE option's value, by dest (shared ones with our defaults)
    models: tuple[str, ...]
    record_mode: str
    block_network: bool
    repeats: int
    seed: int
    report: Path | None
    api_base: str | None
    cassette_dir: Path
    default_cassette_dir: bool
    no_baseline: bool
    update_baseline: bool
    profile: str
    prefix_model: str | None
    params: tuple[str, ...]
    configs: tuple[str, ...]
    judge: str | None
    thresholds: Thresholds
    decoding: Decoding  # the request options (TABLE rows with `decoding`)
    model_decodings: tuple[tuple[str, Decoding], ...]  # per model, from --drift-config `models:`
    model_api_bases: tuple[tuple[str, str], ...]  # per model, from --drift-config `models:` api_base
    model_prices: tuple[tuple[str, Any], ...]  # per model (models.prices.Price), input/output_per_mtok
    audit: str | None  # --drift-audit: a review-only LLM audit of instrumental traces
    forks: tuple[str, ...]
    fork_message: str
    no_references: bool
    concurrency: int
    max_cost: float | None  # the whole run's (LiveOptions splits it between xdist workers)
    plan: bool
    shard: tuple[int, int] | None
    progress: str
    progress_every: float

    @classmethod
    def from_config(cls, config: pytest.Config) -> DriftOptions:
        """The one place options are read (a shared option pytest-recording owns may be missing,
        `-p no:recording`-style: its default then)."""
        values = {o.dest: config.getoption(o.dest, o.default) for o in TABLE}
        return cls.from_values(values, config.rootpath)

    @classmethod
    def from_values(cls, values: dict[str, Any], rootpath: Path) -> DriftOptions:
        v = {**values, "record_mode": values["record_mode"] or "none"}  # pytest-recording's default is None
        v["block_network"] = bool(v["block_network"])
        given_dir, report = v["drift_cassette_dir"], v["drift_report"]
        configs = _model_configs(list(v["drift_config"]))
        return cls(
            values=MappingProxyType(v), models=tuple(dict.fromkeys(v["drift_models"])),
            record_mode=v["record_mode"], block_network=v["block_network"], repeats=v["drift_repeats"],
            seed=v["drift_seed"], report=Path(report) if report else None, api_base=v["drift_api_base"],
            cassette_dir=Path(given_dir or rootpath / "cassettes"), default_cassette_dir=not given_dir,
            no_baseline=v["drift_no_baseline"], update_baseline=v["drift_update_baseline"],
            profile=v["drift_profile"], prefix_model=v["drift_prefix_model"], params=tuple(v["drift_param"]),
            configs=tuple(v["drift_config"]), judge=v["drift_judge"],
            thresholds=Thresholds(v["drift_max_gd"], v["drift_min_alignment"]),
            decoding=Decoding(**{o.decoding: v[o.dest] for o in TABLE if o.decoding}),
            model_decodings=tuple((m, c.decoding) for m, c in configs),
            model_api_bases=tuple((m, c.api_base) for m, c in configs if c.api_base),
            model_prices=tuple((m, c.price) for m, c in configs if c.price), audit=v["drift_audit"],
            forks=tuple(v["drift_fork"]), fork_message=v["drift_fork_message"] or "",
            no_references=v["drift_no_references"], concurrency=v["drift_concurrency"],
            max_cost=v["drift_max_cost"], plan=v["drift_plan"], shard=v["drift_shard"],
            progress=v["drift_progress"], progress_every=v["drift_progress_every"],
        )

    def rerecord_flags(self) -> tuple[str, ...]:
        """The options a re-record command must repeat to reach the same cassettes and requests."""
        return tuple(f"{o.flag} {value}" for o in TABLE if o.rerecord for value in o.given(self.values[o.dest]))

    def manifest(self) -> dict[str, Any]:
        """The options the run manifest echoes (TABLE rows with `manifest`), by dest."""
        return {o.dest: self.values[o.dest] for o in TABLE if o.manifest}

    def settings(self) -> Settings:
        from ..engine import Settings

        return Settings(cassette_dir=self.cassette_dir, record_mode=self.record_mode, api_base=self.api_base,
                        drift_seed=self.seed, prefix_model=self.prefix_model, judge=self.judge, audit=self.audit,
                        decoding=self.decoding, model_decodings=self.model_decodings,
                        model_api_bases=self.model_api_bases, model_prices=self.model_prices)


OPTIONS = pytest.StashKey[DriftOptions]()

# Options that ask for drift work by themselves: given any, the registry is built (and the
# models checked) when the session is configured, so a mistake is a usage error at once.
DRIFT_WORK = ("drift_models", "drift_config", "drift_param", "drift_prefix_model", "drift_judge", "drift_audit")


def _model_configs(paths: list[str]) -> tuple[tuple[str, Any], ...]:
    if not paths:  # params reads the worlds' configs: not imported by a run without --drift-config
        return ()
    from ..params import model_configs

    return model_configs(paths)


def case_of(item: pytest.Item) -> Case | None:
    """The drift case a test is parametrised with, or None for any other test (engine.case is
    imported only when the test has a drift_case: it is loaded then already)."""
    callspec = getattr(item, "callspec", None)
    if callspec is None or "drift_case" not in callspec.params:
        return None
    from ..engine.case import Case

    case = callspec.params["drift_case"]
    return case if isinstance(case, Case) else None


def plain_nodeid(nodeid: str) -> str:
    """The node id without the `@group` suffix xdist's loadgroup adds in its workers: a recording
    run under xdist has it, its replay not, and records and baselines pair tests by node id.
    The suffix starts right after the parameters' closing bracket: a group name may hold '@' itself
    (a fork's episode id, `...-r0@5->MODEL`), so the last '@' does not mark it."""
    start = nodeid.find("[")
    if start < 0:
        at = nodeid.rfind("@")
        return nodeid[:at] if at > nodeid.rfind("::") else nodeid
    end = nodeid.find("]@", start)
    return nodeid[:end + 1] if end >= 0 else nodeid


def asks_for_drift(config: pytest.Config) -> bool:
    """Whether the command line itself asks for drift work (see DRIFT_WORK)."""
    return any(config.stash[OPTIONS].values[name] for name in DRIFT_WORK)

def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    group = parser.getgroup("drift", "pytest-drift: goal drift and instrumental behaviour evals")
    if not _recording_to_come(pluginmanager):  # else pytest_load_initial_conftests adds what it leaves
        _add_shared(parser)
    for option in TABLE:
        if not option.shared:
            option.add_to(group)


def pytest_addhooks(pluginmanager: pytest.PytestPluginManager) -> None:
    pluginmanager.add_hookspecs(hookspecs)


@pytest.hookimpl(tryfirst=True)
def pytest_configure(config: pytest.Config) -> None:
    try:
        options = config.stash[OPTIONS] = DriftOptions.from_config(config)
    except DriftError as exc:  # a --drift-config file that cannot be read: before any test
        raise pytest.UsageError(str(exc)) from None
    if options.report and not hasattr(config, "workerinput"):
        try:  # fail before the run, not after an hour of episodes
            options.report.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise pytest.UsageError(f"--drift-report {options.report}: cannot create it ({exc.strerror or exc})") from None


def manifest_options(config: pytest.Config) -> dict[str, Any]:
    """The manifest's options: the table's, with pytest's selection and xdist's worker count."""
    options = config.stash[OPTIONS].manifest()
    options.update(keyword=config.option.keyword, markexpr=config.option.markexpr,
                   xdist_workers=getattr(config.option, "numprocesses", None))
    return options
