"""The argument parser: each command's module registers its own subcommand."""

from __future__ import annotations

import argparse
import sys

from . import export, ready, record, report, scenarios, show

DESCRIPTION = ("The `pytest-drift` command: list scenarios, falsify one, record a project's evals, render the "
               "drift report from CI artifacts, compare two runs, print an episode's transcript (or its "
               "checkpoint at a step), export a run as Inspect AI logs, check models are ready before a paid run.")
COMMANDS = (scenarios, report, show, export, record, ready)  # the order of --help


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    if argv[:1] == ["record"] and not {"-h", "--help"} & set(argv[1:]):
        return record.run(argv[1:])  # everything after `record` is pytest's, uninterpreted
    parser = argparse.ArgumentParser(prog="pytest-drift", description=DESCRIPTION)
    sub = parser.add_subparsers(dest="command", required=True)
    for command in COMMANDS:
        command.register(sub)
    args = parser.parse_args(argv)
    try:
        return int(args.func(args))
    except BrokenPipeError:  # `pytest-drift show ... | head`: the reader left, nothing is wrong
        import os

        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
