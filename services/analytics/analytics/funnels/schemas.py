from datetime import datetime, timedelta
from typing import Annotated

from contracts.usage import EVENT_TYPE_PATTERN
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationInfo, field_validator

MAX_STEPS = 20
MAX_WITHIN = timedelta(days=366)
EventType = Annotated[str, Field(pattern=EVENT_TYPE_PATTERN)]


class FunnelQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    steps: list[EventType] = Field(min_length=2, max_length=MAX_STEPS, description="Event types, in order")
    within: timedelta = Field(
        description="How long after entering (the first step) the last step may come: ISO 8601 (P7D) or seconds"
    )
    from_: AwareDatetime = Field(alias="from", description="Entries (first-step events) from this time, inclusive")
    to: AwareDatetime = Field(description="...up to this time, exclusive; later steps may follow until to + within")

    @field_validator("within")
    @classmethod
    def _within(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0) or value > MAX_WITHIN:
            raise ValueError(f"must be more than 0 and at most {MAX_WITHIN.days} days")
        return value

    @field_validator("to")
    @classmethod
    def _after_from(cls, value: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("from_")
        if start is not None and value <= start:
            raise ValueError("must be after from")
        return value


class FunnelStep(BaseModel):
    step: int = Field(description="1 for the first step")
    event_type: str
    customers: int
    conversion_from_previous: float | None = Field(description="customers / previous step's; null for the first")
    conversion_from_first: float | None = Field(description="customers / first step's; null for the first")
    drop_off: int = Field(description="Previous step's customers who did not reach this one")
    drop_off_rate: float | None
    median_seconds_from_previous: float | None = Field(description="Among the customers who reached this step")


class FunnelResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: datetime = Field(alias="from")
    to: datetime
    within_seconds: float
    steps: list[FunnelStep]
