from typing import Any

import pytest
from billing.catalog.schemas import MAX_FILTERS, MeterCreate
from pydantic import ValidationError

BASE = {"key": "tokens", "event_type": "ai.request"}


def errors(body: dict[str, Any]) -> list[tuple[tuple[Any, ...], str]]:
    with pytest.raises(ValidationError) as caught:
        MeterCreate.model_validate({**BASE, **body})
    return [(error["loc"], error["msg"]) for error in caught.value.errors()]


@pytest.mark.parametrize("aggregation", ["sum", "max", "unique_count", "latest"])
def test_a_property_is_required_by_all_but_count(aggregation: str) -> None:
    assert errors({"aggregation": aggregation}) == [(("property",), f"required when aggregation is {aggregation}")]
    assert MeterCreate.model_validate({**BASE, "aggregation": aggregation, "property": "p"}).property == "p"


def test_count_refuses_a_property() -> None:
    assert errors({"aggregation": "count", "property": "p"}) == [
        (("property",), "not allowed when aggregation is count")
    ]


def test_filters_keep_json_scalars_with_their_types() -> None:
    filters = {"model": "large", "cached": False, "tier": 2, "ratio": 0.5}
    meter = MeterCreate.model_validate({**BASE, "aggregation": "count", "filters": filters, "group_by": "model"})
    assert meter.filters == filters
    assert [type(value) for value in meter.filters.values()] == [str, bool, int, float]
    assert meter.group_by == "model"
    assert MeterCreate.model_validate({**BASE, "aggregation": "count"}).filters == {}


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (None, "must be a string, a number or a boolean"),
        ([1], "must be a string, a number or a boolean"),
        ({"a": 1}, "must be a string, a number or a boolean"),
        (float("inf"), "must be a finite number"),
        ("x" * 1001, "longer than 1000 characters"),
    ],
)
def test_filter_values_other_than_scalars_are_refused(value: Any, reason: str) -> None:
    assert errors({"aggregation": "count", "filters": {"model": value}}) == [(("filters", "model"), reason)]


def test_filter_keys_and_group_by_are_property_names() -> None:
    assert [loc for loc, _ in errors({"aggregation": "count", "filters": {"": 1}})] == [("filters", "", "[key]")]
    assert [loc for loc, _ in errors({"aggregation": "count", "group_by": ""})] == [("group_by",)]
    too_many = {f"p{n}": n for n in range(MAX_FILTERS + 1)}
    assert [loc for loc, _ in errors({"aggregation": "count", "filters": too_many})] == [("filters",)]
