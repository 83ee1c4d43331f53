"""Usage events: one metered action of one of the product's customers (topic usage.events.v1)."""

import json
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, Self

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    JsonValue,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError, to_json

from .envelope import MAX_EVENT_ID_LENGTH, CloudEvent, ContractError, UtcDateTime, error_reason

__all__ = [
    "EVENT_TYPE_PATTERN",
    "MAX_BATCH_EVENTS",
    "MAX_CUSTOMER_ID_LENGTH",
    "MAX_EVENT_ID_LENGTH",
    "MAX_PROPERTIES_BYTES",
    "USAGE_BATCH_RECORDED",
    "USAGE_RECORDED",
    "Properties",
    "UsageBatchRecorded",
    "UsageBatchRecordedEvent",
    "UsageItem",
    "UsageMessage",
    "UsageRecorded",
    "UsageRecordedEvent",
    "decode_usage",
    "usage_recorded",
]

USAGE_RECORDED = "tally.usage.recorded"
USAGE_BATCH_RECORDED = "tally.usage.batch_recorded"
MAX_BATCH_EVENTS = 1000
MAX_CUSTOMER_ID_LENGTH = 255
MAX_PROPERTIES_BYTES = 8192
EVENT_TYPE_PATTERN = r"^[A-Za-z][A-Za-z0-9_.:-]{0,99}$"


def _check_properties(value: dict[str, JsonValue]) -> dict[str, JsonValue]:
    encoded = to_json(value)  # compact UTF-8, as the JSON that carries it; NaN and Infinity come out bare
    if (b"NaN" in encoded or b"Infinity" in encoded) and not _finite(value):
        raise PydanticCustomError("json_not_finite", "NaN and Infinity are not valid JSON")
    if len(encoded) > MAX_PROPERTIES_BYTES:
        raise PydanticCustomError("properties_too_large", "larger than {limit} bytes", {"limit": MAX_PROPERTIES_BYTES})
    return value


def _finite(value: dict[str, JsonValue]) -> bool:
    try:
        json.dumps(value, allow_nan=False)
    except ValueError:
        return False
    return True


# A usage event's properties, wherever they are accepted: the HTTP API validates input with the same type.
Properties = Annotated[dict[str, JsonValue], AfterValidator(_check_properties)]


class UsageRecorded(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)

    customer_id: str = Field(min_length=1, max_length=MAX_CUSTOMER_ID_LENGTH)
    """The product's own id for its customer (Tally's `external_id`), not a `cus_` id."""
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN)
    timestamp: UtcDateTime
    properties: Properties = Field(default_factory=dict)
    """Free-form JSON; at most 8192 bytes (MAX_PROPERTIES_BYTES) as compact UTF-8 JSON."""


class UsageRecordedEvent(CloudEvent[UsageRecorded]):
    """Keyed by `data.customer_id`; `subject` and `time` repeat the customer id and the timestamp."""

    type: Literal["tally.usage.recorded"]
    subject: str

    subject_field = "customer_id"

    @model_validator(mode="after")
    def _check_time(self) -> Self:
        if self.time != self.data.timestamp:
            raise PydanticCustomError("time_mismatch", "time: must equal data.timestamp")
        return self


def usage_recorded(
    event_id: str,
    customer_id: str,
    event_type: str,
    timestamp: datetime,
    *,
    properties: Mapping[str, JsonValue] | None = None,
    source: str,
) -> UsageRecordedEvent:
    """Build a valid event; raises pydantic.ValidationError on invalid input."""
    data = UsageRecorded(
        customer_id=customer_id, event_type=event_type, timestamp=timestamp, properties=dict(properties or {})
    )
    return UsageRecordedEvent.of(event_id, data, source=source, time=timestamp)


class UsageItem(BaseModel):
    """One usage event inside a batch: of the batch's customer, unless it names its own."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, use_attribute_docstrings=True)

    event_id: str = Field(min_length=1, max_length=MAX_EVENT_ID_LENGTH)
    """The sender's idempotency key: billing counts (customer, event_id) once."""
    event_type: str = Field(pattern=EVENT_TYPE_PATTERN)
    timestamp: UtcDateTime
    properties: Properties = Field(default_factory=dict)
    customer_id: str | None = Field(None, min_length=1, max_length=MAX_CUSTOMER_ID_LENGTH)
    """The event's customer when it is not the batch's: left out, the batch's `customer_id`."""


class UsageBatchRecorded(BaseModel):
    model_config = ConfigDict(extra="forbid", use_attribute_docstrings=True)

    customer_id: str = Field(min_length=1, max_length=MAX_CUSTOMER_ID_LENGTH)
    """The customer of every event that names none itself; the record's key."""
    events: list[UsageItem] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)
    """In the order they were sent."""


class UsageBatchRecordedEvent(CloudEvent[UsageBatchRecorded]):
    """Several usage events in one message (what usage-ingest publishes): of one customer, or of several when
    events name their own `customer_id` (usage-ingest writes the customers of a request that share a partition in
    one message, keyed by the first of them). The envelope `id` names the message; each event keeps its own
    `event_id`, the deduplication key. `time` is the receipt time."""

    type: Literal["tally.usage.batch_recorded"]
    subject: str

    subject_field = "customer_id"


UsageMessage = Annotated[UsageRecordedEvent | UsageBatchRecordedEvent, Field(discriminator="type")]
_USAGE_MESSAGE: TypeAdapter[UsageRecordedEvent | UsageBatchRecordedEvent] = TypeAdapter(UsageMessage)


def decode_usage(raw: bytes) -> UsageRecordedEvent | UsageBatchRecordedEvent:
    """Either kind of message on usage.events.v1; raises ContractError naming the failing fields."""
    try:
        return _USAGE_MESSAGE.validate_json(raw)
    except ValidationError as exc:
        raise ContractError(error_reason(exc)) from exc


def usage_items(message: UsageRecordedEvent | UsageBatchRecordedEvent) -> list[tuple[str, UsageItem]]:
    """(customer id, event) for each usage event a message carries, either kind, in order: a batch's event is of
    its own `customer_id` or else the batch's; a single event's id is the message's (its fields were validated with
    the message, so it is built without validating them again)."""
    if isinstance(message, UsageBatchRecordedEvent):
        batch_customer = message.data.customer_id
        return [(item.customer_id or batch_customer, item) for item in message.data.events]
    data = message.data
    item = UsageItem.model_construct(
        event_id=message.id, event_type=data.event_type, timestamp=data.timestamp, properties=data.properties
    )
    return [(data.customer_id, item)]
