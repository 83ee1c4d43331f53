from datetime import date, datetime
from decimal import Decimal

from pydantic import BaseModel, Field
from tally_runtime.pages import NextCursor

Rate = Decimal | None


class Period(BaseModel):
    start: date = Field(description="First day of the period")
    end: date = Field(description="Last day of the period (as_of)")


class AmountMetric(BaseModel):
    value: int | None
    previous: int | None


class RateMetric(BaseModel):
    value: Rate
    previous: Rate


class SummaryOut(BaseModel):
    currency: str
    as_of: date
    period: Period
    previous_period: Period
    mrr: AmountMetric
    arr: AmountMetric
    active_customers: AmountMetric
    arpa: AmountMetric
    customer_churn_rate: RateMetric
    gross_mrr_churn_rate: RateMetric
    net_mrr_churn_rate: RateMetric
    nrr: RateMetric
    grr: RateMetric
    ltv: AmountMetric
    trial_conversion_rate: RateMetric


class CustomerCountsOut(BaseModel):
    opening: int
    new: int
    churned: int
    reactivated: int
    closing: int


class BridgeMonthOut(BaseModel):
    month: str
    opening_mrr: int
    new: int
    expansion: int
    contraction: int
    churned: int
    reactivation: int
    closing_mrr: int
    usage_revenue: int
    customers: CustomerCountsOut


class MrrOut(BaseModel):
    currency: str
    months: list[BridgeMonthOut]


class CohortCellOut(BaseModel):
    months_since: int
    value: int
    retention: Rate


class CohortOut(BaseModel):
    cohort: str
    customers: int
    starting_value: int
    cells: list[CohortCellOut]


class CohortsOut(BaseModel):
    currency: str
    kind: str
    by: str
    cohorts: list[CohortOut]


class RevenueRowOut(BaseModel):
    key: str = Field(description="The month (YYYY-MM) or the plan key ('' for invoices without a subscription)")
    customers: int
    subscription: int = Field(description="Base fees and prorations")
    usage: int
    discounts: int = Field(description="Adjustment lines (negative for a discount)")
    revenue: int = Field(description="subscription + usage (+ discounts when ANALYTICS_DEDUCT_DISCOUNTS)")
    collected: int | None = Field(None, description="By month: payments succeeded minus refunded")
    mrr: int | None = Field(None, description="By plan: its MRR at the end of the range")
    subscribers: int | None = Field(None, description="By plan: paying customers at the end of the range")


class RevenueOut(BaseModel):
    currency: str
    group_by: str
    from_month: str = Field(serialization_alias="from")
    to_month: str = Field(serialization_alias="to")
    rows: list[RevenueRowOut]


class CustomerMetricsOut(BaseModel):
    id: str
    external_id: str | None
    name: str
    currency: str
    status: str = Field(description="active, past_due, trialing, unpaid, canceled, or none (never subscribed)")
    plans: list[str]
    mrr: int
    customer_since: datetime | None = Field(description="Start of the first paid segment")
    created_at: datetime


class CustomerList(BaseModel):
    data: list[CustomerMetricsOut]
    next_cursor: NextCursor
