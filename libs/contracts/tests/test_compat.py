import copy
from typing import Any

import pytest
from contracts import METER_CREATED, USAGE_RECORDED
from contracts.compat import breaking_changes
from contracts.schemas import generate_schemas

STRING = {"type": "string"}
OPTIONAL_STRING = {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None}


def obj(required: tuple[str, ...] = (), extra: Any = None, **properties: Any) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": properties, "required": list(required)}
    if extra is not None:
        schema["additionalProperties"] = extra
    return schema


def envelope(data: dict[str, Any]) -> dict[str, Any]:
    """A pydantic-shaped schema: the data model lives in $defs and is reached through $ref."""
    return {
        "$defs": {"Data": data},
        **obj(("id", "data"), id=STRING, data={"$ref": "#/$defs/Data"}),
    }


def test_identical_schemas_are_compatible() -> None:
    schema = envelope(obj(("a",), a=STRING, b=OPTIONAL_STRING))
    assert breaking_changes(schema, copy.deepcopy(schema)) == []


def test_removed_property_is_breaking() -> None:
    old = envelope(obj(("a",), a=STRING, b=OPTIONAL_STRING))
    new = envelope(obj(("a",), a=STRING))
    assert breaking_changes(old, new) == ["data.b: removed"]


def test_top_level_removed_property_is_breaking() -> None:
    assert breaking_changes(obj(a=STRING, b=STRING), obj(a=STRING)) == ["b: removed"]


def test_newly_required_property_is_breaking() -> None:
    old = envelope(obj(("a",), a=STRING, b=STRING))
    assert breaking_changes(old, envelope(obj(("a", "b"), a=STRING, b=STRING))) == ["data.b: newly required"]
    added = envelope(obj(("a", "c"), a=STRING, b=STRING, c=STRING))
    assert breaking_changes(old, added) == ["data.c: newly required"]


def test_adding_an_optional_property_is_compatible() -> None:
    old = envelope(obj(("a",), extra=False, a=STRING))
    new = envelope(obj(("a",), extra=False, a=STRING, b=OPTIONAL_STRING))
    assert breaking_changes(old, new) == []


def test_dropping_a_requirement_is_compatible() -> None:
    assert breaking_changes(obj(("a",), a=STRING), obj(a=STRING)) == []


def test_type_change_is_breaking() -> None:
    old = envelope(obj(a=STRING))
    new = envelope(obj(a={"type": "integer"}))
    assert breaking_changes(old, new) == ["data.a: type changed from string to integer"]


@pytest.mark.parametrize(
    ("old", "new", "breaking"),
    [
        ({"type": "integer"}, {"type": "number"}, False),
        ({"type": "number"}, {"type": "integer"}, True),
        (STRING, OPTIONAL_STRING, False),
        (OPTIONAL_STRING, STRING, True),
        ({}, STRING, True),
        (STRING, {}, False),
        ({"type": ["string", "null"]}, OPTIONAL_STRING, False),
        (OPTIONAL_STRING, {"type": ["string", "null"]}, False),
        ({"anyOf": [{"type": "string"}, {"type": "integer"}]}, {"type": "string"}, True),
    ],
)
def test_type_widening_and_narrowing(old: dict[str, Any], new: dict[str, Any], breaking: bool) -> None:
    assert bool(breaking_changes(obj(a=old), obj(a=new))) is breaking


def test_narrowing_optional_to_non_null_names_both_types() -> None:
    assert breaking_changes(obj(a=OPTIONAL_STRING), obj(a=STRING)) == ["a: type changed from null | string to string"]


def test_enum_values_removed_is_breaking_and_widening_is_not() -> None:
    count_sum = {"type": "string", "enum": ["count", "sum"]}
    wider = {"type": "string", "enum": ["count", "sum", "max", "unique_count", "latest"]}
    assert breaking_changes(obj(agg=count_sum), obj(agg=wider)) == []
    assert breaking_changes(obj(agg=wider), obj(agg=count_sum)) == [
        'agg: enum values removed: "max", "unique_count", "latest"'
    ]


def test_const_changes() -> None:
    v1 = {"type": "string", "const": "1.0"}
    assert breaking_changes(obj(v=v1), obj(v={"type": "string", "const": "2.0"})) == [
        'v: const changed from "1.0" to "2.0"'
    ]
    assert breaking_changes(obj(v=v1), obj(v={"type": "string", "enum": ["1.0", "1.1"]})) == []
    assert breaking_changes(obj(v=v1), obj(v=STRING)) == []
    assert breaking_changes(obj(v=STRING), obj(v=v1)) == ['v: now restricted to "1.0"']


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        ({"maxLength": 255}, {"maxLength": 100}, ["a: maxLength lowered from 255 to 100"]),
        ({}, {"maxLength": 100}, ["a: maxLength 100 added"]),
        ({"maxLength": 100}, {"maxLength": 255}, []),
        ({"maxLength": 100}, {}, []),
        ({"minLength": 1}, {"minLength": 2}, ["a: minLength raised from 1 to 2"]),
        ({}, {"minLength": 1}, ["a: minLength raised from 0 to 1"]),
        ({}, {"minLength": 0}, []),
        ({"minLength": 2}, {"minLength": 1}, []),
        ({"pattern": "^a$"}, {"pattern": "^b$"}, ["a: pattern changed from '^a$' to '^b$'"]),
        ({}, {"pattern": "^a$"}, ["a: pattern '^a$' added"]),
        ({"pattern": "^a$"}, {}, []),
        ({}, {"format": "date-time"}, ["a: format 'date-time' added"]),
    ],
)
def test_string_constraints(old: dict[str, Any], new: dict[str, Any], expected: list[str]) -> None:
    assert breaking_changes(obj(a={"type": "string", **old}), obj(a={"type": "string", **new})) == expected


@pytest.mark.parametrize(
    ("old", "new", "breaking"),
    [
        ({"minimum": 0}, {"minimum": 1}, True),
        ({"minimum": 1}, {"minimum": 0}, False),
        ({}, {"minimum": 0}, True),
        ({"maximum": 10}, {"maximum": 5}, True),
        ({"exclusiveMaximum": 10}, {"exclusiveMaximum": 11}, False),
        ({}, {"multipleOf": 2}, True),
    ],
)
def test_number_constraints(old: dict[str, Any], new: dict[str, Any], breaking: bool) -> None:
    schemas = obj(n={"type": "integer", **old}), obj(n={"type": "integer", **new})
    assert bool(breaking_changes(*schemas)) is breaking


def test_forbidding_additional_properties_is_breaking() -> None:
    assert breaking_changes(obj(extra=True, a=STRING), obj(extra=False, a=STRING)) == [
        "(root): additional properties now forbidden"
    ]
    assert breaking_changes(envelope(obj(a=STRING)), envelope(obj(extra=False, a=STRING))) == [
        "data: additional properties now forbidden"
    ]
    assert breaking_changes(obj(extra=False, a=STRING), obj(extra=True, a=STRING)) == []


def test_narrowing_map_values_is_breaking() -> None:
    any_values = obj(props={"type": "object", "additionalProperties": {"$ref": "#/$defs/JsonValue"}})
    any_values["$defs"] = {"JsonValue": {}}
    int_values = obj(props={"type": "object", "additionalProperties": {"type": "integer"}})
    assert breaking_changes(any_values, int_values) == ["props.*: type changed from any to integer"]
    assert breaking_changes(int_values, any_values) == []


def test_array_items_are_compared() -> None:
    strings = obj(tags={"type": "array", "items": STRING})
    ints = obj(tags={"type": "array", "items": {"type": "integer"}})
    assert breaking_changes(strings, ints) == ["tags[]: type changed from string to integer"]
    assert breaking_changes(strings, obj(tags={"type": "array", "items": STRING, "maxItems": 3})) == [
        "tags: maxItems 3 added"
    ]


def test_nested_objects_without_refs_are_compared() -> None:
    old = obj(outer=obj(inner=obj(leaf=STRING)))
    new = obj(outer=obj(inner=obj(leaf={"type": "boolean"})))
    assert breaking_changes(old, new) == ["outer.inner.leaf: type changed from string to boolean"]


def test_refs_are_resolved_on_each_side_independently() -> None:
    old = envelope(obj(a=STRING))
    new = {"$defs": {"Renamed": obj(a=STRING)}, **obj(("id", "data"), id=STRING, data={"$ref": "#/$defs/Renamed"})}
    assert breaking_changes(old, new) == []
    inline = obj(("id", "data"), id=STRING, data=obj(a=STRING))
    assert breaking_changes(old, inline) == []


def test_recursive_schemas_terminate() -> None:
    def tree(leaf: dict[str, Any]) -> dict[str, Any]:
        node = obj(value=leaf, children={"type": "array", "items": {"$ref": "#/$defs/Node"}})
        return {"$defs": {"Node": node}, "$ref": "#/$defs/Node"}

    assert breaking_changes(tree(STRING), tree(STRING)) == []
    changes = breaking_changes(tree(STRING), tree({"type": "integer"}))
    assert changes[0] == "value: type changed from string to integer"
    assert all(change.endswith("value: type changed from string to integer") for change in changes)


def test_boolean_schemas() -> None:
    assert breaking_changes(obj(a=False), obj(a=STRING)) == []
    assert breaking_changes(obj(a=True), obj(a=False)) == ["a: type changed from any to nothing"]


def test_unanalysed_keywords_are_reported_when_they_change() -> None:
    old = obj(a={"type": "string", "not": {"const": "x"}})
    new = obj(a={"type": "string", "not": {"const": "y"}})
    assert breaking_changes(old, new) == ["a: not changed (not analysed, assumed breaking)"]
    assert breaking_changes(old, copy.deepcopy(old)) == []


def test_annotations_are_ignored() -> None:
    old = obj(a={"type": "string", "title": "A", "description": "old", "default": "x"})
    new = obj(a={"type": "string", "title": "Renamed", "description": "new", "examples": ["y"]})
    assert breaking_changes(old, new) == []


def test_on_the_real_usage_schema() -> None:
    schema = generate_schemas()[USAGE_RECORDED]
    data = schema["$defs"]["UsageRecorded"]
    removed = copy.deepcopy(schema)
    del removed["$defs"]["UsageRecorded"]["properties"]["properties"]
    assert breaking_changes(schema, removed) == ["data.properties: removed"]
    retyped = copy.deepcopy(schema)
    retyped["$defs"]["UsageRecorded"]["properties"]["event_type"] = {"type": "integer"}
    assert breaking_changes(schema, retyped) == ["data.event_type: type changed from string to integer"]
    shorter = copy.deepcopy(schema)
    shorter["$defs"]["UsageRecorded"]["properties"]["customer_id"]["maxLength"] = 64
    assert breaking_changes(schema, shorter) == ["data.customer_id: maxLength lowered from 255 to 64"]
    extended = copy.deepcopy(schema)
    extended["$defs"]["UsageRecorded"]["properties"]["quantity"] = {"type": "number", "default": 1}
    assert breaking_changes(schema, extended) == []
    assert "quantity" not in data["properties"]


def test_on_the_real_meter_schema() -> None:
    schema = generate_schemas()[METER_CREATED]
    meter = schema["$defs"]["MeterCreated"]
    assert meter["properties"]["aggregation"]["enum"] == ["count", "sum", "max", "unique_count", "latest"]
    narrower = copy.deepcopy(schema)
    narrower["$defs"]["MeterCreated"]["properties"]["aggregation"]["enum"] = ["count", "sum"]
    assert breaking_changes(narrower, schema) == []
    assert breaking_changes(schema, narrower) == [
        'data.aggregation: enum values removed: "max", "unique_count", "latest"'
    ]
    before_filters = copy.deepcopy(narrower)
    for name in ("filters", "group_by"):
        del before_filters["$defs"]["MeterCreated"]["properties"][name]
    assert breaking_changes(before_filters, schema) == []
    assert breaking_changes(schema, before_filters)[-2:] == ["data.filters: removed", "data.group_by: removed"]
    assert "filters" not in meter["required"] and "group_by" not in meter["required"]
