"""Pure: accepted events into usage.events.v1 records, one per customer, in the order they were sent."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from contracts.usage import USAGE_BATCH_RECORDED
from tally_runtime.ids import new_id

from usage_ingest.events.parsing import IncomingEvent, InvalidEvents


@dataclass(frozen=True)
class TimeBounds:
    max_age: timedelta
    max_ahead: timedelta


@dataclass(frozen=True, slots=True)
class Record:
    key: bytes  # the customer id: one partition per customer keeps its events in order
    value: bytes  # a tally.usage.batch_recorded CloudEvent
    events: int


def timestamp_error(timestamp: datetime, received_at: datetime, bounds: TimeBounds) -> str | None:
    if timestamp.tzinfo is None:
        return "must include a time zone, e.g. 2026-11-01T12:00:00Z"
    if timestamp < received_at - bounds.max_age:
        return f"older than {bounds.max_age.days} days"
    if timestamp > received_at + bounds.max_ahead:
        return f"more than {int(bounds.max_ahead.total_seconds() // 60)} minutes ahead"
    return None


def check_timestamps(events: Sequence[IncomingEvent], received_at: datetime, bounds: TimeBounds) -> None:
    errors = [
        {"field": event.field + event.time_field, "reason": reason}
        for event in events
        if event.timestamp is not None and (reason := timestamp_error(event.timestamp, received_at, bounds))
    ]
    if errors:
        raise InvalidEvents(errors)


def to_records(events: Sequence[IncomingEvent], received_at: datetime, source: str) -> list[Record]:
    """One record per customer; events without a timestamp get the receipt time. Timestamps keep the sender's
    UTC offset (RFC 3339, as the contract allows); consumers read them as instants."""
    received = received_at.astimezone(UTC)
    by_customer: dict[str, list[dict[str, Any]]] = {}
    for event in events:
        by_customer.setdefault(event.customer_id, []).append(
            {
                "event_id": event.id,
                "event_type": event.type,
                "timestamp": event.timestamp or received,
                "properties": event.properties,
            }
        )
    return [
        Record(customer.encode(), _batch_message(customer, items, received, source), len(items))
        for customer, items in by_customer.items()
    ]


def _batch_message(customer: str, items: list[dict[str, Any]], received: datetime, source: str) -> bytes:
    return orjson.dumps(
        {
            "specversion": "1.0",
            "id": new_id("msg"),
            "source": source,
            "type": USAGE_BATCH_RECORDED,
            "subject": customer,
            "time": received,
            "datacontenttype": "application/json",
            "data": {"customer_id": customer, "events": items},
        },
        option=orjson.OPT_UTC_Z,
    )
