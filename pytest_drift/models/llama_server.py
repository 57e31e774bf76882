"""Run llama_cpp.server with every completion capped at a token budget.

llama-cpp-python's `chatml-function-calling` handler generates tool-call arguments with
`max_tokens=None`, ignoring the request's max_tokens: a small model that starts a long
string argument then generates until the context is full (minutes per request on 2
cores). Capping `Llama.create_completion` bounds every generation stage. Usage is the
server's own: python -m pytest_drift.models.llama_server --model ... (env DRIFT_LLAMA_MAX_TOKENS).
"""

from __future__ import annotations

import os
import runpy
from typing import Any

DEFAULT_CAP = 160  # a sentence and one tool call; more is a small model rambling


def cap_completions(cap: int) -> None:
    from llama_cpp import Llama

    original = Llama.create_completion

    def capped(self: Any, *args: Any, **kwargs: Any) -> Any:
        requested = kwargs.get("max_tokens")
        if requested is None or requested <= 0 or requested > cap:
            kwargs["max_tokens"] = cap
        return original(self, *args, **kwargs)

    Llama.create_completion = capped  # type: ignore[method-assign,unused-ignore]  # typed only where llama_cpp is installed


def main() -> None:
    cap_completions(int(os.environ.get("DRIFT_LLAMA_MAX_TOKENS", DEFAULT_CAP)))
    runpy.run_module("llama_cpp.server", run_name="__main__", alter_sys=True)


if __name__ == "__main__":
    main()
