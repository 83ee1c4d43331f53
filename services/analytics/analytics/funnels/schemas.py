from datetime import datetime, timedelta

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from analytics.query_fields import EventType, after_from, bounded_span

MAX_STEPS = 20
MAX_WITHIN = timedelta(days=366)


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
        return bounded_span(value, MAX_WITHIN)

    _to_after_from = field_validator("to")(after_from)


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
