from datetime import date

from pydantic import BaseModel, Field


class SegmentRule(BaseModel):
    segment: str
    r: tuple[int, int] = Field(description="Lowest and highest R score")
    fm: tuple[int, int] = Field(description="Lowest and highest FM score")


class Thresholds(BaseModel):
    recency_days: list[int] = Field(description="Quintile cut points, ascending (fewer days scores higher)")
    frequency: list[int] = Field(description="Quintile cut points of active days, ascending")
    monetary_minor: list[int] = Field(description="Quintile cut points of net paid revenue, ascending")
    scoring: str
    rules: list[SegmentRule] = Field(description="First match wins")


class CustomerScore(BaseModel):
    customer_id: str
    recency_days: int
    frequency: int
    monetary_minor: int
    r: int
    f: int
    m: int
    fm: int
    segment: str


class RfmResult(BaseModel):
    as_of: date
    lookback_days: int
    currency: str
    customers_scored: int
    thresholds: Thresholds
    counts: dict[str, int]
    customers: list[CustomerScore]
