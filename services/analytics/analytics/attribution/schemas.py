from datetime import datetime, timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from analytics.attribution.weights import DEFAULT_HALF_LIFE, Model
from analytics.query_fields import EventType, after_from, bounded_span

MAX_LOOKBACK = timedelta(days=366)


class AttributionQuery(BaseModel):
    model_config = ConfigDict(extra="forbid", populate_by_name=True)

    model: Model
    from_: AwareDatetime = Field(alias="from", description="Conversions from this time, inclusive")
    to: AwareDatetime = Field(description="...to this time, exclusive")
    lookback: timedelta = Field(
        timedelta(days=30), description="Touchpoints this long before a conversion count: ISO 8601 or seconds"
    )
    half_life: timedelta = Field(DEFAULT_HALF_LIFE, description="time_decay only: ISO 8601 or seconds")
    touchpoints: list[EventType] | None = Field(
        None, min_length=1, max_length=100, description="Usage event types that count as touchpoints; default: all"
    )
    revenue: Literal["paid_invoices", "new_subscriptions"] = Field(
        "paid_invoices",
        description="Conversions: each invoice paid (its total, when it became paid), or each subscription's first "
        "paying state (its MRR, when it began)",
    )

    @field_validator("lookback", "half_life")
    @classmethod
    def _bounded(cls, value: timedelta) -> timedelta:
        return bounded_span(value, MAX_LOOKBACK)

    _to_after_from = field_validator("to")(after_from)


class TouchpointCredit(BaseModel):
    event_type: str
    revenue_minor: int
    conversions: float = Field(description="Conversion credit: the sum of this type's weights, 4 decimals")
    touches: int


class Unattributed(BaseModel):
    revenue_minor: int
    conversions: int


class CurrencyAttribution(BaseModel):
    currency: str
    total_minor: int
    conversions: int
    touchpoints: list[TouchpointCredit] = Field(description="By revenue, highest first")
    unattributed: Unattributed = Field(description="Conversions with no touchpoint in the lookback window")


class AttributionResult(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    model: Model
    from_: datetime = Field(alias="from")
    to: datetime
    lookback_seconds: float
    half_life_seconds: float | None
    revenue: str
    currencies: list[CurrencyAttribution]
