from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from analytics.usage.periods import Period


class Claim(BaseModel):
    """A Spearman rank correlation, or none (rho and p_value null) with the reason."""

    n: int = Field(description="Customers in the sample")
    rho: float | None
    p_value: float | None
    reason: str | None


class FeaturePeriod(BaseModel):
    period: date
    active_customers: int
    customers: int = Field(description="Active customers with at least one event of this type in the period")
    adoption: float | None = Field(description="customers / active_customers, 4 decimals; null with none active")
    events: int


class Feature(BaseModel):
    event_type: str
    periods: list[FeaturePeriod]
    retention: Claim
    revenue: Claim


class Features(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: date = Field(alias="from")
    to: date
    period: Literal["week", "month"]
    currency: str
    retention_days: int
    min_sample: int
    features: list[Feature]


class TrendPoint(BaseModel):
    period: date
    events: int


class FeatureTrend(BaseModel):
    event_type: str
    total: int
    points: list[TrendPoint]
    slope: float | None = Field(description="Least-squares slope of events per period against the period index")
    first_half: int
    second_half: int
    change_pct: float | None = Field(description="Second half vs first half, in %; null when the first half is 0")


class UsageTrend(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    customer_id: str
    external_id: str
    from_: date = Field(alias="from")
    to: date
    period: Period
    features: list[FeatureTrend]
