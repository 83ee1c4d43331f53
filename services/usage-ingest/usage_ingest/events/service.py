"""Turning accepted input into usage.recorded events: all of a request's events, or none."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from contracts.usage import UsageRecordedEvent, usage_recorded

from usage_ingest.events.schemas import UsageEventIn


@dataclass(frozen=True)
class TimeBounds:
    max_age: timedelta
    max_ahead: timedelta


@dataclass(frozen=True)
class EventError:
    index: int
    field: str
    reason: str


class InvalidEvents(Exception):
    def __init__(self, errors: list[EventError]) -> None:
        super().__init__(f"{len(errors)} invalid events")
        self.errors = errors


def timestamp_error(timestamp: datetime, received_at: datetime, bounds: TimeBounds) -> str | None:
    if timestamp.tzinfo is None:
        return "must include a time zone, e.g. 2026-11-01T12:00:00Z"
    if timestamp < received_at - bounds.max_age:
        return f"older than {bounds.max_age.days} days"
    if timestamp > received_at + bounds.max_ahead:
        return f"more than {int(bounds.max_ahead.total_seconds() // 60)} minutes ahead"
    return None


def to_events(
    inputs: Sequence[UsageEventIn], received_at: datetime, bounds: TimeBounds, source: str
) -> list[UsageRecordedEvent]:
    events: list[UsageRecordedEvent] = []
    errors: list[EventError] = []
    for index, item in enumerate(inputs):
        timestamp = item.timestamp or received_at
        reason = timestamp_error(timestamp, received_at, bounds)
        if reason:
            errors.append(EventError(index, "timestamp", reason))
            continue
        utc = timestamp.astimezone(UTC)
        events.append(
            usage_recorded(item.id, item.customer_id, item.type, utc, properties=item.properties, source=source)
        )
    if errors:
        raise InvalidEvents(errors)
    return events
