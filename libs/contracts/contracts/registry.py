"""Every event type, the topic it travels on and its model."""

import builtins
from dataclasses import dataclass
from typing import Any

from .api_keys import API_KEY_ISSUED, API_KEY_REVOKED, ApiKeyIssuedEvent, ApiKeyRevokedEvent
from .billing import METER_CREATED, MeterCreatedEvent
from .envelope import CloudEvent
from .topics import API_KEYS, BILLING_EVENTS, USAGE_EVENTS
from .usage import USAGE_BATCH_RECORDED, USAGE_RECORDED, UsageBatchRecordedEvent, UsageRecordedEvent


@dataclass(frozen=True)
class EventType:
    type: str
    topic: str
    event_cls: builtins.type[CloudEvent[Any]]  # `type` is shadowed by the field above


EVENT_TYPES: dict[str, EventType] = {
    spec.type: spec
    for spec in (
        EventType(USAGE_RECORDED, USAGE_EVENTS, UsageRecordedEvent),
        EventType(USAGE_BATCH_RECORDED, USAGE_EVENTS, UsageBatchRecordedEvent),
        EventType(METER_CREATED, BILLING_EVENTS, MeterCreatedEvent),
        EventType(API_KEY_ISSUED, API_KEYS, ApiKeyIssuedEvent),
        EventType(API_KEY_REVOKED, API_KEYS, ApiKeyRevokedEvent),
    )
}


def event_type(name: str) -> EventType:
    try:
        return EVENT_TYPES[name]
    except KeyError:
        raise KeyError(f"unknown event type {name!r}") from None
