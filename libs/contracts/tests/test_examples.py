import json
from typing import Any

import pytest
from contracts import EVENT_TYPES, decode_event, encode_event
from contracts.schemas import EXAMPLES_DIR, SCHEMA_DIR
from jsonschema import Draft202012Validator


def load(path_name: str) -> Any:
    return json.loads((EXAMPLES_DIR / path_name).read_text(encoding="utf-8"))


def test_every_registered_type_has_exactly_one_example_and_vice_versa() -> None:
    examples = sorted(path.name for path in EXAMPLES_DIR.iterdir())
    assert examples == sorted(f"{name}.json" for name in EVENT_TYPES)


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_example_parses_with_its_model(name: str) -> None:
    raw = (EXAMPLES_DIR / f"{name}.json").read_bytes()
    event = decode_event(raw, EVENT_TYPES[name].event_cls)
    assert event.type == name
    assert json.loads(encode_event(event)) == json.loads(raw), "examples are written as encode_event writes them"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_example_validates_against_the_checked_in_schema(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    validator = Draft202012Validator(schema, format_checker=Draft202012Validator.FORMAT_CHECKER)
    errors = [f"{error.json_path}: {error.message}" for error in validator.iter_errors(load(f"{name}.json"))]
    assert errors == []


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_schema_refuses_what_the_model_refuses(name: str) -> None:
    schema = json.loads((SCHEMA_DIR / f"{name}.json").read_text(encoding="utf-8"))
    validator = Draft202012Validator(schema)
    example = load(f"{name}.json")
    assert not validator.is_valid({**example, "data": {**example["data"], "unexpected": 1}})
    assert not validator.is_valid({**example, "specversion": "0.3"})
    assert not validator.is_valid({**example, "Bad_Extension": 1})
    assert not validator.is_valid({k: v for k, v in example.items() if k != "id"})
