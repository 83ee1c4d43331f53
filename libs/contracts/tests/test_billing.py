from datetime import UTC, datetime

import pytest
from contracts.billing import MeterCreated
from pydantic import ValidationError

BASE = {
    "meter_id": "mtr_1",
    "key": "tokens",
    "event_type": "ai.request",
    "created_at": datetime(2026, 11, 1, tzinfo=UTC),
}


def test_filters_and_group_by_default_to_none() -> None:
    meter = MeterCreated.model_validate({**BASE, "aggregation": "count"})
    assert (meter.filters, meter.group_by) == ({}, None)


@pytest.mark.parametrize("aggregation", ["sum", "max", "unique_count", "latest"])
def test_every_aggregation_but_count_needs_a_property(aggregation: str) -> None:
    with pytest.raises(ValidationError, match="required when aggregation is"):
        MeterCreated.model_validate({**BASE, "aggregation": aggregation})
    assert MeterCreated.model_validate({**BASE, "aggregation": aggregation, "property": "p"}).property == "p"


def test_filter_values_are_json_scalars() -> None:
    filters = {"model": "large", "cached": False, "tier": 2, "ratio": 0.5}
    meter = MeterCreated.model_validate({**BASE, "aggregation": "count", "filters": filters, "group_by": "region"})
    assert meter.filters == filters
    assert type(meter.filters["cached"]) is bool and type(meter.filters["tier"]) is int
    for bad in (None, [1], {"a": 1}, float("nan")):
        with pytest.raises(ValidationError):
            MeterCreated.model_validate({**BASE, "aggregation": "count", "filters": {"x": bad}})
    with pytest.raises(ValidationError):
        MeterCreated.model_validate({**BASE, "aggregation": "count", "group_by": ""})
