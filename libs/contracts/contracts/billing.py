"""Billing events (topic billing.events.v1)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationInfo, field_validator
from pydantic_core import PydanticCustomError

from .envelope import CloudEvent, UtcDateTime
from .usage import EVENT_TYPE_PATTERN

METER_CREATED = "tally.meter.created"
METER_ID_PATTERN = r"^mtr_[0-9A-Za-z]+$"
METER_KEY_PATTERN = EVENT_TYPE_PATTERN

# Widening this alias is backward compatible; removing a value is not.
Aggregation = Literal["count", "sum", "max", "unique_count", "latest"]
# A filter's value: a JSON scalar that the usage event's property must equal.
FilterValue = str | int | float | bool


class MeterCreated(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)

    meter_id: str = Field(pattern=METER_ID_PATTERN, max_length=255)
    key: str = Field(pattern=METER_KEY_PATTERN)
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN)
    """The usage `event_type` this meter aggregates."""
    aggregation: Aggregation
    property: str | None = Field(default=None, min_length=1, max_length=255, validate_default=True)
    """The usage property aggregated; required by every aggregation except "count"."""
    filters: dict[str, FilterValue] = Field(default_factory=dict)
    """Only usage events whose properties hold every one of these values are measured; empty: every event."""
    group_by: str | None = Field(default=None, min_length=1, max_length=255)
    """A usage property: the meter keeps one value per distinct value of it (as text; events without it: "")."""
    created_at: UtcDateTime

    @field_validator("property")
    @classmethod
    def _check_property(cls, value: str | None, info: ValidationInfo) -> str | None:
        aggregation = info.data.get("aggregation")
        if value is None and aggregation not in (None, "count"):
            raise PydanticCustomError(
                "property_required",
                "required when aggregation is {aggregation}",
                {"aggregation": aggregation},
            )
        return value


class MeterCreatedEvent(CloudEvent[MeterCreated]):
    type: Literal["tally.meter.created"]
    subject: str

    subject_field = "meter_id"


def meter_created(event_id: str, data: MeterCreated, source: str) -> MeterCreatedEvent:
    """Build a valid event whose time is the meter's creation time."""
    return MeterCreatedEvent.of(event_id, data, source=source, time=data.created_at)
