"""A deterministic bash over a virtual filesystem (bashkit), with task programs as builtins.

bashkit is a real interpreter (pipes, redirection, sed, grep, jq, find) but it reads the
host clock for `date` and file times and seeds `$RANDOM` from the host. Here:

* `date` is a builtin on the world's virtual clock;
* every file the agent creates or changes is re-stamped to the virtual clock after each
  command, and the host's current minute / epoch second is rewritten to the virtual one
  in that command's own output (the only window in which a host time can show);
* `$RANDOM` is seeded from the episode seed;
* `/opt/tools/<name>` are small wrapper scripts that call the builtin `<name>`, which is
  bound to the task's authoritative state in Python, outside the filesystem.
"""

from __future__ import annotations

import posixpath
import re
import shlex
import time
from dataclasses import dataclass
from datetime import datetime, timedelta, UTC
from typing import Any, Callable

import bashkit

ProgramResult = tuple[str, str, int]  # stdout, stderr, exit code
Program = Callable[[list[str], str], ProgramResult]  # argv (without the name), stdin

HOME = "/home/agent"
TOOLS_DIR = "/opt/tools"
ROOTS = (HOME, "/etc", "/opt", "/srv", "/tmp", "/var")  # where the agent's writes are re-stamped
MAX_OUTPUT = 4_000  # characters of one observation; more is cut with a note
_EPOCH_RE = re.compile(r"\b1[6-9]\d{8}\b")
_TIME_RE = re.compile(r"^(real|user|sys)\t\d+m\d+\.\d+s$", re.MULTILINE)  # the `time` keyword's host timings


def wrapper_script(name: str, summary: str) -> str:
    return f"#!/bin/bash\n# {name}: {summary}\n# Client for the {name} service. Run `{name} --help`.\nexec {name} \"$@\"\n"


@dataclass(frozen=True)
class ShellOutput:
    stdout: str
    stderr: str
    exit_code: int

    def render(self) -> str:
        text = self.stdout
        if self.stderr:
            text += ("" if not text or text.endswith("\n") else "\n") + self.stderr
        if len(text) > MAX_OUTPUT:
            text = text[:MAX_OUTPUT] + f"\n[output cut at {MAX_OUTPUT} characters]\n"
        if text and not text.endswith("\n"):
            text += "\n"
        return f"{text}[exit {self.exit_code}]"


class VirtualShell:
    """One episode's bash. Same commands in the same order give the same bytes."""

    def __init__(self, files: dict[str, str], programs: dict[str, tuple[str, Program]], start: datetime,
                 seed: int, hostname: str, cwd: str = HOME) -> None:
        self.clock = start
        self._fs: Any = None  # the builtin's fs handle while a task program runs
        self._cwd: str | None = None  # and its working directory
        self._stamps: set[int] = set()  # every virtual mtime given so far
        self.programs = programs
        all_files = dict(files)
        for name, (summary, _) in programs.items():
            all_files[f"{TOOLS_DIR}/{name}"] = wrapper_script(name, summary)
        builtins = {name: self._builtin(fn) for name, (_, fn) in programs.items()}
        builtins["date"] = self._date
        builtins["sleep"] = self._sleep
        self.bash = bashkit.Bash(
            username="agent", hostname=hostname, cwd=cwd, files=all_files, custom_builtins=builtins,
            env={"HOME": HOME, "USER": "agent", "PATH": f"{TOOLS_DIR}:/usr/local/bin:/usr/bin:/bin", "TZ": "UTC"},
        )
        for name in programs:
            self.bash.chmod(f"{TOOLS_DIR}/{name}", 0o755)
        self.bash.execute_sync(f"RANDOM={seed % 32768}")
        self._stamp(self.walk())  # bashkit's own /etc files too

    # -- clock -------------------------------------------------------------------------
    def tick(self, minutes: int = 1) -> None:
        self.clock += timedelta(minutes=minutes)

    def _stamp(self, paths: list[str]) -> None:
        if paths:
            stamp = self.clock.strftime("%Y-%m-%d %H:%M:%S")
            self.bash.execute_sync(f"touch -d '{stamp}' " + " ".join(shlex.quote(p) for p in paths))
            self._stamps.add(int(self.clock.timestamp()))

    def _date(self, ctx: bashkit.BuiltinContext) -> bashkit.BuiltinResult:
        fmt = next((a[1:] for a in ctx.argv if a.startswith("+")), "%a %b %e %H:%M:%S UTC %Y")
        return bashkit.BuiltinResult(stdout=self.clock.strftime(fmt.replace("%s", str(int(self.clock.timestamp())))) + "\n")

    def _sleep(self, ctx: bashkit.BuiltinContext) -> bashkit.BuiltinResult:
        """Sleeping advances the virtual clock instead of the host's (no waiting, no drift)."""
        total = 0.0
        for arg in ctx.argv:
            unit = {"s": 1, "m": 60, "h": 3600, "d": 86400}.get(arg[-1:])
            try:
                total += float(arg[:-1] if unit else arg) * (unit or 1)
            except ValueError:
                return bashkit.BuiltinResult(stderr=f"sleep: invalid time interval '{arg}'\n", exit_code=1)
        self.clock += timedelta(seconds=min(total, 86400))
        return bashkit.BuiltinResult()

    # -- running -----------------------------------------------------------------------
    def _builtin(self, fn: Program) -> Callable[[bashkit.BuiltinContext], bashkit.BuiltinResult]:
        def run(ctx: bashkit.BuiltinContext) -> bashkit.BuiltinResult:
            self._fs = ctx.fs  # inside a builtin only ctx.fs may touch the VFS (bashkit's runtime is busy)
            self._cwd = ctx.cwd
            try:
                out, err, code = fn(list(ctx.argv), ctx.stdin or "")
            except Exception as exc:  # a task bug must not kill the episode: the agent sees an error
                out, err, code = "", f"internal error: {type(exc).__name__}\n", 70
            finally:
                self._fs = self._cwd = None
            return bashkit.BuiltinResult(stdout=out, stderr=err, exit_code=code)

        return run

    def run(self, command: str, cwd: str | None = None) -> ShellOutput:
        script = f"cd {shlex.quote(cwd)} && {{ {command}\n}}" if cwd else command
        t0 = time.time()
        try:
            r = self.bash.execute_sync(script)
            out = ShellOutput(r.stdout or "", r.stderr or "", int(r.exit_code))
        except Exception as exc:  # the interpreter refused the script (limits, parse): the agent reads why
            out = ShellOutput("", f"bash: {type(exc).__name__}: {exc}\n", 2)
        t1 = time.time()
        self.settle()
        return ShellOutput(self._unhost(out.stdout, t0, t1), self._unhost(out.stderr, t0, t1), out.exit_code)

    def _unhost(self, text: str, t0: float, t1: float) -> str:
        """Rewrite the host's current time (as ls -l / stat print it) to the virtual clock."""
        if not text:
            return text
        virtual = self.clock
        for t in {t0 - 60, t0, t1}:
            for zone in (UTC, None):
                host = datetime.fromtimestamp(t, zone)
                text = text.replace(host.strftime("%Y-%m-%d %H:%M"), virtual.strftime("%Y-%m-%d %H:%M"))
                text = text.replace(host.strftime("%b %e %H:%M"), virtual.strftime("%b %e %H:%M"))
        text = _TIME_RE.sub(lambda m: f"{m.group(1)}\t0m0.000s", text)
        lo, hi = int(t0) - 2, int(t1) + 2
        return _EPOCH_RE.sub(lambda m: str(int(virtual.timestamp())) if lo <= int(m.group()) <= hi else m.group(), text)

    def settle(self) -> None:
        """Give every file whose mtime is not a virtual one (written by the agent, a program or
        write_file, whenever) the virtual clock's time. A rule on state, not on host timing."""
        fresh = [p for p, meta in sorted(self._scan().items()) if meta["file_type"] != "symlink"  # dangling
                 and (int(meta["modified"]) not in self._stamps or meta["modified"] % 1)]
        self._stamp(fresh)

    # -- reading the filesystem (for scorers) -----------------------------------------
    def _scan(self, roots: tuple[str, ...] = ROOTS) -> dict[str, dict[str, Any]]:
        """Every path under the roots with its metadata, one directory listing each (the
        listing carries the metadata). A symlink is followed for its metadata but never
        descended into: a link to an ancestor would make the walk endless."""
        fs, out = self.bash.fs(), {}
        todo = [(r, fs.stat(r)) for r in roots if self.bash.exists(r)]
        while todo:
            path, meta = todo.pop()
            out[path] = meta
            if meta["file_type"] == "directory":
                for e in fs.read_dir(path):
                    child, child_meta = f"{path.rstrip('/')}/{e['name']}", e["metadata"]
                    if child_meta["file_type"] == "symlink":
                        child_meta = self._link_meta(fs, child, child_meta)
                        out[child] = child_meta
                    else:
                        todo.append((child, child_meta))
        return out

    @staticmethod
    def _link_meta(fs: Any, path: str, own: dict[str, Any]) -> dict[str, Any]:
        """A symlink's target metadata (a regular file reads through it); a dangling or
        looping link keeps its own, as a leaf that is not a file."""
        try:
            return dict(fs.stat(path))
        except Exception:
            return dict(own)

    def walk(self, roots: tuple[str, ...] = ROOTS) -> list[str]:
        return sorted(self._scan(roots))

    def files(self, roots: tuple[str, ...] = ROOTS) -> dict[str, str]:
        """Every regular file under the roots with its text (binary-safe)."""
        return {p: self.read(p) or "" for p, meta in sorted(self._scan(roots).items()) if meta["file_type"] == "file"}

    def resolve(self, path: str) -> str:
        """An absolute path: ~ expanded, relative to the running program's (or the shell's) cwd."""
        if path.startswith("~"):
            path = HOME + path[1:]
        cwd = self._cwd if self._cwd is not None else (self.bash.shell_state().cwd or HOME)
        return posixpath.normpath(posixpath.join(cwd, path))

    def fs(self) -> Any:
        return self._fs if self._fs is not None else self.bash.fs()

    def write(self, path: str, text: str) -> None:
        self.fs().write_file(path, text.encode())

    def read(self, path: str) -> str | None:
        try:
            data = self.fs().read_file(path)
        except Exception:
            return None
        return data.decode("utf-8", "replace") if isinstance(data, (bytes, bytearray)) else str(data)
