"""What the analytics queries (funnels, attribution) share in their bodies: event types, and time spans checked
the same way."""

from datetime import datetime, timedelta
from typing import Annotated

from contracts.usage import EVENT_TYPE_PATTERN
from pydantic import Field, ValidationInfo

EventType = Annotated[str, Field(pattern=EVENT_TYPE_PATTERN)]


def bounded_span(value: timedelta, most: timedelta) -> timedelta:
    """A duration field's check: more than nothing, at most `most`."""
    if value <= timedelta(0) or value > most:
        raise ValueError(f"must be more than 0 and at most {most.days} days")
    return value


def after_from(value: datetime, info: ValidationInfo) -> datetime:
    """The `to` field's check: after `from` (when that one was valid)."""
    start = info.data.get("from_")
    if start is not None and value <= start:
        raise ValueError("must be after from")
    return value
