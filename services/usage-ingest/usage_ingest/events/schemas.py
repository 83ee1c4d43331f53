from datetime import datetime

from contracts.usage import (
    EVENT_TYPE_PATTERN,
    MAX_CUSTOMER_ID_LENGTH,
    MAX_EVENT_ID_LENGTH,
    Properties,
)
from pydantic import BaseModel, ConfigDict, Field

MAX_BATCH_EVENTS = 1000


class UsageEventIn(BaseModel):
    """One usage event in Tally's JSON shape."""

    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1, max_length=MAX_EVENT_ID_LENGTH, description="The sender's idempotency key")
    customer_id: str = Field(min_length=1, max_length=MAX_CUSTOMER_ID_LENGTH, description="The product's id")
    type: str = Field(pattern=EVENT_TYPE_PATTERN, description="e.g. `api_call`")
    timestamp: datetime | None = Field(None, description="When it happened (ISO 8601); default: receipt time")
    properties: Properties = Field(default_factory=dict)


class UsageBatchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[UsageEventIn] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)


class Accepted(BaseModel):
    accepted: int
