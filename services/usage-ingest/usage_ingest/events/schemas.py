"""What the events endpoints accept: Tally's JSON shape and CloudEvents 1.0 (structured and batched)."""

from datetime import datetime
from typing import Literal

from contracts.usage import (
    EVENT_TYPE_PATTERN,
    MAX_BATCH_EVENTS,
    MAX_CUSTOMER_ID_LENGTH,
    MAX_EVENT_ID_LENGTH,
    Properties,
)
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter


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


class CloudEventIn(BaseModel):
    """One usage event as a CloudEvent: `subject` is the customer, `data` the properties."""

    model_config = ConfigDict(extra="allow")  # CloudEvents extension attributes are allowed and ignored

    specversion: Literal["1.0"]
    id: str = Field(min_length=1, max_length=MAX_EVENT_ID_LENGTH)
    source: str = Field(min_length=1)
    type: str = Field(pattern=EVENT_TYPE_PATTERN)
    subject: str = Field(min_length=1, max_length=MAX_CUSTOMER_ID_LENGTH)
    time: datetime | None = None
    datacontenttype: Literal["application/json"] | None = None
    data: Properties = Field(default_factory=dict)


class Accepted(BaseModel):
    accepted: int


class Validated(BaseModel):
    valid: int


TALLY_EVENT = TypeAdapter(UsageEventIn)
TALLY_BATCH = TypeAdapter(UsageBatchIn)
CLOUD_EVENT = TypeAdapter(CloudEventIn)
CLOUD_EVENT_BATCH = TypeAdapter(list[CloudEventIn])
