from datetime import UTC, date, datetime, time
from typing import Annotated

from contracts.subscriptions import Status
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from tally_runtime.pages import NextCursor

from billing.catalog.schemas import KEY_PATTERN


def _day_or_moment(value: object) -> object:
    """A bare date starts at midnight UTC; a time without a zone is refused (it would be ambiguous)."""
    if isinstance(value, str) and len(value) == 10:
        return datetime.combine(date.fromisoformat(value), time.min, tzinfo=UTC)
    return value


StartDate = Annotated[datetime, BeforeValidator(_day_or_moment)]


class SubscriptionIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    customer_id: str = Field(min_length=1, max_length=255, description="Our `cus_` id or your external id")
    plan_key: str = Field(pattern=KEY_PATTERN)
    plan_version: int | None = Field(None, ge=1, description="Default: the plan's newest version")
    start_date: StartDate | None = Field(
        None,
        description="YYYY-MM-DD (midnight UTC) or an RFC 3339 time; default now. In the past for imports: "
        "every period closed since then is invoiced.",
    )
    trial_days: int | None = Field(None, ge=0, le=730, description="Default: the plan's trial_days")


class ChangePlanIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    plan_key: str = Field(pattern=KEY_PATTERN)
    plan_version: int | None = Field(None, ge=1, description="Default: the plan's newest version")


class CancelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    at_period_end: bool = Field(True, description="false: now, with a final invoice for the usage so far")


class PlanRef(BaseModel):
    key: str
    version: int


class SubscriptionOut(BaseModel):
    id: str
    customer_id: str
    plan: PlanRef
    scheduled_plan: PlanRef | None = Field(description="Takes effect at the end of the current period")
    status: Status
    currency: str
    started_at: datetime
    trial_end: datetime | None
    current_period_start: datetime
    current_period_end: datetime
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    created_at: datetime


class SubscriptionList(BaseModel):
    data: list[SubscriptionOut]
    next_cursor: NextCursor
