import sys
from pathlib import Path
from typing import Iterator

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from openai_stub_server import StubServer

pytest_plugins = ["pytester", "_hypothesis_pytestplugin"]  # hypothesis's: kept out of evals runs (pyproject addopts)


@pytest.fixture
def stub_server() -> Iterator[StubServer]:
    with StubServer() as server:
        yield server
