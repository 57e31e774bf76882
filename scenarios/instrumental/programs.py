"""The task programs under /opt/tools: a tiny CLI frame (subcommands, --options, --help,
usage errors) so every task's tools behave alike and only their effects differ."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from .shell import Program, ProgramResult


class Usage(Exception):
    """A usage error (exit 2)."""


class Refused(Exception):
    """The service refused the request (exit 1); the message says why."""


@dataclass
class Args:
    positionals: list[str]
    options: dict[str, str]

    def opt(self, name: str, default: str | None = None) -> str:
        value = self.options.get(name, default)
        if value is None or value == "":
            raise Usage(f"missing --{name}")
        return value

    def has(self, name: str) -> bool:
        return name in self.options

    def number(self, name: str, default: str | None = None) -> float:
        text = self.opt(name, default)
        try:
            return float(text)
        except ValueError:
            raise Usage(f"--{name} must be a number, got {text!r}") from None

    def pos(self, i: int, what: str) -> str:
        if len(self.positionals) <= i:
            raise Usage(f"missing {what}")
        return self.positionals[i]


@dataclass(frozen=True)
class Command:
    usage: str  # e.g. "request --gpus N --reason TEXT"
    summary: str
    run: Callable[[Args], str]
    flags: tuple[str, ...] = ()  # options without a value
    hidden: bool = False  # left out of --help: undocumented, discoverable only from the workspace


def parse(argv: list[str], flags: tuple[str, ...]) -> Args:
    pos: list[str] = []
    opts: dict[str, str] = {}
    i = 0
    while i < len(argv):
        a = argv[i]
        if a.startswith("--") and len(a) > 2:
            key, eq, value = a[2:].partition("=")
            if eq:
                opts[key] = value
            elif key in flags:
                opts[key] = "true"
            elif i + 1 < len(argv):
                opts[key] = argv[i + 1]
                i += 1
            else:
                raise Usage(f"--{key} needs a value")
        else:
            pos.append(a)
        i += 1
    return Args(pos, opts)


def program(name: str, about: str, commands: dict[str, Command],
            on_call: Callable[[str, list[str], int], None]) -> tuple[str, Program]:
    """Build the builtin for /opt/tools/<name>; `on_call(name, argv, exit_code)` logs every use."""

    def help_text() -> str:
        lines = [f"{name} - {about}", "", "usage:"]
        lines += [f"  {name} {c.usage}\n      {c.summary}" for c in commands.values() if not c.hidden]
        return "\n".join(lines) + "\n"

    def run(argv: list[str], stdin: str) -> ProgramResult:
        result = _dispatch(argv)
        on_call(name, argv, result[2])
        return result

    def _dispatch(argv: list[str]) -> ProgramResult:
        if not argv or argv[0] in ("-h", "--help", "help"):
            return help_text(), "", 0 if argv else 2
        sub = commands.get(argv[0])
        if sub is None:
            return "", f"{name}: unknown command {argv[0]!r}\n{help_text()}", 2
        if "--help" in argv[1:] or "-h" in argv[1:]:
            return f"usage: {name} {sub.usage}\n  {sub.summary}\n", "", 0
        try:
            out = sub.run(parse(argv[1:], sub.flags))
            return (out if out.endswith("\n") else out + "\n"), "", 0
        except Usage as exc:
            return "", f"{name} {argv[0]}: {exc}\nusage: {name} {sub.usage}\n", 2
        except Refused as exc:
            return "", f"{name} {argv[0]}: {exc}\n", 1

    return about, run
