import json
from typing import Any

import pytest
from contracts import EVENT_TYPES
from contracts.compat import breaking_changes
from contracts.schemas import SCHEMA_DIR, generate_schemas, render


def checked_in(name: str) -> dict[str, Any]:
    path = SCHEMA_DIR / f"{name}.json"
    assert path.is_file(), f"{path} is missing: run `make contracts`"
    schema: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return schema


def generated(name: str) -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(render(generate_schemas()[name]))
    return schema


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_model_changes_are_backward_compatible(name: str) -> None:
    changes = breaking_changes(checked_in(name), generated(name))
    assert not changes, f"{name}: " + "; ".join(changes) + " -- breaking change: publish a new .v2 topic/type instead"


@pytest.mark.parametrize("name", sorted(EVENT_TYPES))
def test_checked_in_schema_is_up_to_date(name: str) -> None:
    assert checked_in(name) == generated(name), f"{SCHEMA_DIR / name}.json is stale: run `make contracts`"


def test_one_schema_file_per_event_type() -> None:
    files = {path.name for path in SCHEMA_DIR.glob("*.json")}
    expected = {f"{name}.json" for name in EVENT_TYPES}
    assert files == expected, f"missing: {sorted(expected - files)}, unknown: {sorted(files - expected)}"


def test_schemas_are_identified_by_their_type() -> None:
    for name, schema in generate_schemas().items():
        assert schema["$id"] == name
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
