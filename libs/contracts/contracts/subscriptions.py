"""Subscription events (topic billing.events.v1, keyed by customer id, so one customer's changes stay in order).

Each carries the subscription as it is after the change and, on a change, the terms it had before: what revenue
analytics needs without reading billing's tables. `mrr_minor` is the base price normalized to a month (a yearly
price / 12, rounded half-up to a minor unit); it is 0 while trialing and once canceled. Usage charges are not MRR."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .customers import Currency, CustomerId
from .envelope import CloudEvent, UtcDateTime

SUBSCRIPTION_CREATED = "tally.subscription.created"
SUBSCRIPTION_UPDATED = "tally.subscription.updated"
SUBSCRIPTION_CANCELED = "tally.subscription.canceled"
SUBSCRIPTION_ID_PATTERN = r"^sub_[0-9A-Za-z]+$"

# Widening these aliases is backward compatible; removing a value is not.
Status = Literal["trialing", "active", "past_due", "canceled", "unpaid"]
Interval = Literal["month", "year"]
Change = Literal["created", "plan_changed", "plan_change_scheduled", "status_changed", "cancel_scheduled", "canceled"]


class Terms(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    plan_key: str = Field(min_length=1, max_length=100)
    plan_version: int = Field(ge=1)
    status: Status
    interval: Interval
    base_price_minor: int = Field(ge=0)
    mrr_minor: int = Field(ge=0)


class Subscription(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    subscription_id: str = Field(pattern=SUBSCRIPTION_ID_PATTERN, max_length=255)
    customer_id: CustomerId
    currency: Currency
    terms: Terms
    """The terms after the change."""
    previous: Terms | None = None
    """The terms before the change; absent on creation."""
    change: Change
    started_at: UtcDateTime
    trial_end: UtcDateTime | None = None
    current_period_start: UtcDateTime
    current_period_end: UtcDateTime
    cancel_at_period_end: bool = False
    canceled_at: UtcDateTime | None = None
    effective_at: UtcDateTime
    """When the change takes effect for revenue: for an import, the past start date; for a cancellation at period
    end, the event that schedules it is effective now and the later `canceled` event at the period end."""


class SubscriptionCreatedEvent(CloudEvent[Subscription]):
    type: Literal["tally.subscription.created"]
    subject: str

    subject_field = "customer_id"


class SubscriptionUpdatedEvent(CloudEvent[Subscription]):
    type: Literal["tally.subscription.updated"]
    subject: str

    subject_field = "customer_id"


class SubscriptionCanceledEvent(CloudEvent[Subscription]):
    type: Literal["tally.subscription.canceled"]
    subject: str

    subject_field = "customer_id"
