"""Pure: accepted events into usage.events.v1 records, one per partition their customers fall on, each holding
its events in the order they were sent."""

from collections.abc import Callable, Sequence
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
class Submission:
    """One request's valid events, as received."""

    received_at: datetime  # the default timestamp of its events that have none
    events: Sequence[IncomingEvent]
    body_bytes: int  # decompressed


@dataclass(frozen=True, slots=True)
class Record:
    partition: int  # every customer of the record is keyed to it, so a customer's events stay in order
    key: bytes  # the record's first customer id (it hashes to the partition), as its batch_recorded message names
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
    earliest, latest = received_at - bounds.max_age, received_at + bounds.max_ahead
    errors = [
        {"field": event.field + event.time_field, "reason": reason}
        for event in events
        if (at := event.timestamp) is not None
        and not (at.tzinfo is not None and earliest <= at <= latest)  # the usual case, without building a reason
        and (reason := timestamp_error(at, received_at, bounds))
    ]
    if errors:
        raise InvalidEvents(errors)


def to_records(submissions: Sequence[Submission], source: str, partition_of: Callable[[str], int]) -> list[Record]:
    """One record per partition the submissions' customers fall on (`partition_of` a customer id), named after its
    first customer; an event of another customer names its own. Events keep the order they were submitted in;
    those without a timestamp get their submission's receipt time, and each record's `time` is the first
    submission's. Timestamps keep the sender's UTC offset (RFC 3339, as the contract allows); consumers read them as
    instants."""
    by_partition: dict[int, tuple[str, list[dict[str, Any]]]] = {}
    for submission in submissions:
        received = submission.received_at.astimezone(UTC)
        for event in submission.events:
            customer = event.customer_id
            first, items = by_partition.setdefault(partition_of(customer), (customer, []))
            item: dict[str, Any] = {
                "event_id": event.id,
                "event_type": event.type,
                "timestamp": event.timestamp or received,
                "properties": event.properties,
            }
            if customer != first:
                item["customer_id"] = customer
            items.append(item)
    time = submissions[0].received_at.astimezone(UTC)
    return [
        Record(partition, first.encode(), _batch_message(first, items, time, source), len(items))
        for partition, (first, items) in by_partition.items()
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
