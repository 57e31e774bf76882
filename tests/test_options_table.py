"""The options table (plugin.options.TABLE) declares each option once; DriftOptions, the manifest
and the re-record command follow from it, and no plugin module reads an option on its own."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from pytest_drift.models.request import Decoding
from pytest_drift.plugin.options import TABLE, DriftOptions

PLUGIN = Path(__file__).resolve().parents[1] / "pytest_drift" / "plugin"


def _defaults() -> dict[str, object]:
    return {o.dest: o.default for o in TABLE}


def test_each_option_is_declared_once_and_request_options_name_a_decoding_field() -> None:
    assert len({o.flag for o in TABLE}) == len({o.dest for o in TABLE}) == len(TABLE)
    fields = {f.name for f in dataclasses.fields(Decoding)}
    assert {o.decoding for o in TABLE if o.decoding} == fields  # every field set by exactly one row


def test_defaults_repeat_nothing_and_the_manifest_is_the_tables() -> None:
    options = DriftOptions.from_values(_defaults(), Path("/repo"))
    assert options.rerecord_flags() == ()
    assert set(options.manifest()) == {o.dest for o in TABLE if o.manifest}
    assert options.record_mode == "none" and options.cassette_dir == Path("/repo/cassettes")


def test_given_options_are_repeated_by_a_re_record_in_table_order() -> None:
    given = {**_defaults(), "drift_seed": 3, "drift_judge": "openai/j", "drift_temperature": 0.5,
             "drift_param": ["growth=0.3", "x=1"], "drift_repeats": 4, "record_mode": None}
    options = DriftOptions.from_values(given, Path("/repo"))
    assert options.rerecord_flags() == ("--drift-seed 3", "--drift-judge openai/j", "--drift-temperature 0.5",
                                        "--drift-param growth=0.3", "--drift-param x=1")
    assert options.decoding == Decoding(temperature=0.5) and options.repeats == 4
    assert options.record_mode == "none"  # pytest-recording's default (None) reads as ours


def test_only_the_options_module_reads_options() -> None:
    readers = sorted(p.name for p in PLUGIN.glob("*.py") if "getoption(" in p.read_text() and p.name != "options.py")
    assert readers == []


def test_plain_nodeid_strips_xdist_group_suffixes_that_hold_at_signs() -> None:
    """A fork's group is its episode id, which holds '@' (`...-r0@5->MODEL`): the suffix starts at
    the parameters' closing bracket, not at the last '@'."""
    from pytest_drift.plugin.options import plain_nodeid

    fork = "evals/test_gym.py::test_holds_alignment[openai/a-release_manager-default-r0@5->openai/b]"
    assert plain_nodeid(f"{fork}@openai/a-release_manager-default-r0@5->openai/b") == fork
    assert plain_nodeid(fork) == fork
    plain = "evals/test_gym.py::test_holds_alignment[local/m-release_manager-default-r0]"
    assert plain_nodeid(f"{plain}@local/m-release_manager-default-r0") == plain
    assert plain_nodeid("tests/test_x.py::test_y@group") == "tests/test_x.py::test_y"
    assert plain_nodeid("tests/test_x.py::test_y") == "tests/test_x.py::test_y"
