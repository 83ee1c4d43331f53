"""Entitlement events (topic billing.events.v1, keyed by customer id)."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from .customers import CustomerId, DecimalText
from .envelope import CloudEvent, UtcDateTime
from .subscriptions import SUBSCRIPTION_ID_PATTERN

THRESHOLD_REACHED = "tally.usage.threshold_reached"


class ThresholdReached(BaseModel):
    """A customer's usage of a limited meter reached a mark of its limit; announced once per mark per period."""

    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    customer_id: CustomerId
    subscription_id: str = Field(pattern=SUBSCRIPTION_ID_PATTERN, max_length=255)
    meter: str = Field(min_length=1, max_length=100)
    limit: int = Field(ge=0)
    used: DecimalText
    """The period's usage when the mark was seen, an exact decimal string."""
    percent: Literal[80, 100]
    period_start: UtcDateTime
    period_end: UtcDateTime
    reached_at: UtcDateTime


class ThresholdReachedEvent(CloudEvent[ThresholdReached]):
    type: Literal["tally.usage.threshold_reached"]
    subject: str

    subject_field = "customer_id"
