"""Side by side with pytest-recording (0.15, from the registry): both plugins register
`--record-mode` and `--block-network`; with both installed every pytest run used to die at
start-up. A throwaway venv sees this environment (a .pth file) and adds pytest-recording."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EVALS = ["evals", "-k", "release_manager and default", "-q", "-p", "no:randomly", "-p", "no:cacheprovider"]
pytestmark = pytest.mark.slow

FOREIGN_TEST = '''
import json
import urllib.request

import pytest


@pytest.mark.vcr
def test_answer(server_url):
    with urllib.request.urlopen(server_url) as reply:
        assert json.loads(reply.read()) == {"answer": 42}
'''

FOREIGN_CONFTEST = '''
import http.server
import json
import os
import threading

import pytest


class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"answer": 42}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


@pytest.fixture
def server_url():
    if os.environ.get("FOREIGN_REPLAY"):  # the server is gone: the cassette answers
        yield open("url.txt").read()
        return
    server = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_port}/"
    open("url.txt", "w").write(url)
    yield url
    server.shutdown()
'''


@pytest.fixture(scope="module")
def recording_python(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A venv seeing this environment's packages, with pytest-recording installed into it."""
    home = tmp_path_factory.mktemp("with-recording")
    venv.create(home, with_pip=True)
    python = home / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          capture_output=True, text=True, check=True).stdout.strip()
    # addsitedir, not a bare path: the parent's own .pth files (the editable install's) count too
    Path(site, "parent-env.pth").write_text(f"import site; site.addsitedir({sysconfig.get_paths()['purelib']!r})\n")
    pip = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check",
                          "pytest-recording>=0.14,<0.16"], capture_output=True, text=True)
    if pip.returncode:
        if os.environ.get("CI"):
            pytest.fail(f"pip could not install pytest-recording: {pip.stderr[-500:]}")
        pytest.skip(f"pip could not install pytest-recording (no registry?): {pip.stderr[-200:]}")
    return python


def _pytest(python: Path | str, *args: str, cwd: Path = ROOT, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(python), "-m", "pytest", *args], cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=600)


def _result_line(run: subprocess.CompletedProcess[str]) -> str:
    """pytest's last line without its duration, e.g. `126 deselected, 1 xfailed`."""
    last = run.stdout.strip().splitlines()[-1]
    return re.sub(r" in [0-9.]+s.*$", "", last.strip("= "))


def test_evals_give_the_same_result_with_pytest_recording_installed(recording_python: Path) -> None:
    without = _pytest(sys.executable, *EVALS)
    with_it = _pytest(recording_python, *EVALS)
    assert without.returncode == 0, without.stdout[-2000:] + without.stderr[-2000:]
    assert with_it.returncode == 0, with_it.stdout[-2000:] + with_it.stderr[-2000:]
    assert "pytest_recording" in _pytest(recording_python, "--version", "--version").stdout + \
        _pytest(recording_python, "--version", "--version").stderr  # it did load beside us
    assert _result_line(with_it) == _result_line(without) == "126 deselected, 1 xfailed"
    # the summary table's row is the same too
    row = [line for line in without.stdout.splitlines() if line.startswith("local/smollm2-135m  release_manager")]
    assert row and row == [line for line in with_it.stdout.splitlines()
                           if line.startswith("local/smollm2-135m  release_manager")]


@pytest.mark.parametrize("order", [("pytest_recording.plugin", "pytest_drift.plugin"),
                                   ("pytest_drift.plugin", "pytest_recording.plugin")])
def test_either_plugin_may_load_first(recording_python: Path, order: tuple[str, str]) -> None:
    args = [a for name in order for a in ("-p", name)]
    run = _pytest(recording_python, *EVALS, *args, "--record-mode=none", "--block-network",
                  env={"PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"})
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert _result_line(run) == "126 deselected, 1 xfailed"


def test_a_foreign_vcr_project_passes_beside_us(recording_python: Path, tmp_path: Path) -> None:
    (tmp_path / "test_foreign.py").write_text(FOREIGN_TEST)
    (tmp_path / "conftest.py").write_text(FOREIGN_CONFTEST)
    recorded = _pytest(recording_python, "-q", "-p", "no:randomly", "--record-mode=once", cwd=tmp_path)
    assert recorded.returncode == 0, recorded.stdout[-2000:] + recorded.stderr[-2000:]
    cassette = tmp_path / "cassettes" / "test_foreign" / "test_answer.yaml"
    assert cassette.is_file() and "answer" in cassette.read_text()
    # replayed with the server gone and the network blocked: the answer comes from the cassette
    replayed = _pytest(recording_python, "-q", "-p", "no:randomly", "--block-network", cwd=tmp_path,
                       env={"FOREIGN_REPLAY": "1"})
    assert replayed.returncode == 0, replayed.stdout[-2000:] + replayed.stderr[-2000:]
    assert _result_line(replayed) == "1 passed"
