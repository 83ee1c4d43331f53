from datetime import datetime

from pydantic import BaseModel

from billing.api_types import ExactDecimal


class Limit(BaseModel):
    meter: str
    limit: int
    used: ExactDecimal
    remaining: ExactDecimal
    percent_used: ExactDecimal


class EntitlementsOut(BaseModel):
    """Across the customer's live subscriptions: limits add up, a feature is on when any plan turns it on."""

    customer_id: str
    period_start: datetime | None
    period_end: datetime | None
    limits: list[Limit]
    features: dict[str, bool]
