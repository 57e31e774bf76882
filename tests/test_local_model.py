import pytest

from pytest_drift.models.local import REPLAY_BASE, LocalModel, LocalModelUnavailable, gguf_path, local_endpoint
from pytest_drift.engine import check_model
from pytest_drift.models import UnknownModel


def test_replay_never_starts_a_server() -> None:
    assert local_endpoint("local/smollm2-135m", "none") == ("openai/smollm2-135m", REPLAY_BASE)


def test_missing_extra_says_what_to_install() -> None:
    with pytest.raises(LocalModelUnavailable, match=r'pip install -e "\.\[local\]"'):
        gguf_path(LocalModel("ghost", "no_such_package_for_drift", "ghost.gguf"))


def test_unknown_local_model_is_a_usage_error() -> None:
    with pytest.raises(UnknownModel, match="known: local/smollm2-135m"):
        check_model("local/llama-70b", [])
    check_model("local/smollm2-135m", [])
