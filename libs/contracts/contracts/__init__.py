"""Tally's event contracts: CloudEvents models, the topic registry, JSON Schemas and examples.

Data only: no business logic and no I/O.
"""

from .api_keys import (
    API_KEY_ISSUED,
    API_KEY_REVOKED,
    ApiKeyEvent,
    ApiKeyIssued,
    ApiKeyIssuedEvent,
    ApiKeyRevoked,
    ApiKeyRevokedEvent,
    api_key_issued,
    api_key_revoked,
)
from .billing import METER_CREATED, Aggregation, MeterCreated, MeterCreatedEvent, meter_created
from .envelope import CloudEvent, ContractError, UtcDateTime, decode_event, encode_event
from .registry import EVENT_TYPES, EventType, event_type
from .topics import (
    ANALYTICS_ALERTS,
    API_KEYS,
    BILLING_EVENTS,
    DLQ_PARTITIONS,
    TOPICS,
    USAGE_EVENTS,
    TopicSpec,
    all_topic_names,
    dlq_topic,
    topic,
)
from .usage import (
    MAX_EVENT_ID_LENGTH,
    MAX_PROPERTIES_BYTES,
    USAGE_RECORDED,
    UsageRecorded,
    UsageRecordedEvent,
    usage_recorded,
)

__all__ = [
    "ANALYTICS_ALERTS",
    "API_KEYS",
    "API_KEY_ISSUED",
    "API_KEY_REVOKED",
    "BILLING_EVENTS",
    "DLQ_PARTITIONS",
    "EVENT_TYPES",
    "MAX_EVENT_ID_LENGTH",
    "MAX_PROPERTIES_BYTES",
    "METER_CREATED",
    "TOPICS",
    "USAGE_EVENTS",
    "USAGE_RECORDED",
    "Aggregation",
    "ApiKeyEvent",
    "ApiKeyIssued",
    "ApiKeyIssuedEvent",
    "ApiKeyRevoked",
    "ApiKeyRevokedEvent",
    "CloudEvent",
    "ContractError",
    "EventType",
    "MeterCreated",
    "MeterCreatedEvent",
    "TopicSpec",
    "UsageRecorded",
    "UsageRecordedEvent",
    "UtcDateTime",
    "all_topic_names",
    "api_key_issued",
    "api_key_revoked",
    "decode_event",
    "dlq_topic",
    "encode_event",
    "event_type",
    "meter_created",
    "topic",
    "usage_recorded",
]
