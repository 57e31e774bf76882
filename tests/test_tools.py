import json

import pytest

from pytest_drift.world import ToolArgumentError, parse_arguments, spec_of
from worlds import EchoWorld


def test_schema_from_signature_and_docstring() -> None:
    spec = spec_of(EchoWorld.add)
    assert spec.description == "Add an amount to the total."
    assert spec.parameters == {
        "type": "object",
        "properties": {"amount": {"type": "integer", "description": "how much to add"},
                       "note": {"type": "string", "description": "free text"}},
        "required": ["amount"],
    }
    assert spec_of(EchoWorld.wait).parameters["properties"]["mode"] == {"type": "string", "enum": ["short", "long"]}


@pytest.mark.parametrize("raw, message", [
    ("{not json", "not valid JSON"),
    ("[1]", "must be a JSON object"),
    ('{"amount": "3"}', "amount must be integer"),
    ('{"amount": true}', "amount must be integer"),
    ('{"note": "x"}', "missing required"),
    ('{"amount": 1, "bogus": 2}', "unknown argument"),
    ('{"amount": 1, "note": "' + "x" * 30_000 + '"}', "too large"),
])
def test_bad_arguments_are_refused_with_a_reason(raw: str, message: str) -> None:
    with pytest.raises(ToolArgumentError, match=message):
        parse_arguments(spec_of(EchoWorld.add), raw)


def test_good_arguments_are_coerced() -> None:
    assert parse_arguments(spec_of(EchoWorld.add), json.dumps({"amount": 3.0})) == {"amount": 3}
    assert parse_arguments(spec_of(EchoWorld.add), None if False else '{"amount": 2}') == {"amount": 2}
    with pytest.raises(ToolArgumentError, match="one of"):
        parse_arguments(spec_of(EchoWorld.wait), '{"mode": "forever"}')
