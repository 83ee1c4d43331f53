import math
from datetime import datetime
from typing import Annotated, Any

from contracts.billing import Aggregation, FilterValue
from contracts.usage import EVENT_TYPE_PATTERN
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError
from tally_runtime.pages import NextCursor

KEY_PATTERN = r"^[a-z][a-z0-9_]{0,99}$"
MAX_FILTERS = 20
MAX_FILTER_TEXT = 1000
PropertyName = Annotated[str, Field(min_length=1, max_length=100)]


def _scalar(value: Any) -> Any:
    """A filter's value must be one JSON scalar: a string, a finite number or a boolean (not null, no list)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise PydanticCustomError("filter_value", "must be a finite number")
    if not isinstance(value, str | int | float | bool):
        raise PydanticCustomError("filter_value", "must be a string, a number or a boolean")
    if isinstance(value, str) and len(value) > MAX_FILTER_TEXT:
        raise PydanticCustomError("filter_value", "longer than {limit} characters", {"limit": MAX_FILTER_TEXT})
    return value


Filters = dict[PropertyName, Annotated[FilterValue, BeforeValidator(_scalar)]]


class MeterCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    key: str = Field(pattern=KEY_PATTERN, description="Stable name, e.g. `tokens`")
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN, description="Usage events of this type are measured")
    aggregation: Aggregation = Field(
        description="count: events; sum: the property's numbers added; max: the greatest number; unique_count: "
        "distinct values of the property; latest: the number of the last event (by its timestamp)"
    )
    property: PropertyName | None = Field(
        None, validate_default=True, description="The property aggregated: required by all but count"
    )
    filters: Filters = Field(
        default_factory=dict,
        max_length=MAX_FILTERS,
        description='Only events whose properties have these values are measured, e.g. {"model": "large"}',
    )
    group_by: PropertyName | None = Field(
        None, description='A property: one value per distinct value of it (events without it form the group "")'
    )

    @field_validator("property")
    @classmethod
    def _property_fits_aggregation(cls, value: str | None, info: ValidationInfo) -> str | None:
        aggregation = info.data.get("aggregation")
        if aggregation is None:  # invalid itself: reported on its own field
            return value
        if aggregation == "count" and value is not None:
            raise PydanticCustomError("property_refused", "not allowed when aggregation is count")
        if aggregation != "count" and value is None:
            raise PydanticCustomError(
                "property_required", "required when aggregation is {aggregation}", {"aggregation": aggregation}
            )
        return value


class MeterOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    key: str
    event_type: str
    aggregation: Aggregation
    property: str | None
    filters: dict[str, FilterValue]
    group_by: str | None
    created_at: datetime


class MeterList(BaseModel):
    data: list[MeterOut]
    next_cursor: NextCursor
