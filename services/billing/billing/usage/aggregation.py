"""Pure meter arithmetic: how usage events add up into per-customer, per-meter, per-UTC-day totals.

The same rules are written in SQL for backfills and partial days (billing.usage.repository); tests hold the two
to each other.
"""

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

TotalKey = tuple[str, str, date]  # meter id, customer id, UTC day


@dataclass(frozen=True)
class MeterRule:
    id: str
    event_type: str
    aggregation: str  # "count" or "sum"
    property: str | None


@dataclass(frozen=True)
class RecordedUsage:
    customer_id: str
    event_type: str
    occurred_at: datetime
    properties: Mapping[str, Any]


def numeric_value(value: Any) -> Decimal | None:
    """A JSON number as an exact Decimal; anything else (strings, booleans, null) does not count."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def contribution(rule: MeterRule, event: RecordedUsage) -> Decimal | None:
    if event.event_type != rule.event_type:
        return None
    if rule.aggregation == "count":
        return Decimal(1)
    if rule.aggregation == "sum" and rule.property is not None:
        return numeric_value(event.properties.get(rule.property))
    raise ValueError(f"unknown aggregation {rule.aggregation!r}")


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def daily_totals(rules: Iterable[MeterRule], events: Iterable[RecordedUsage]) -> dict[TotalKey, Decimal]:
    by_type: dict[str, list[MeterRule]] = defaultdict(list)
    for rule in rules:
        by_type[rule.event_type].append(rule)
    totals: dict[TotalKey, Decimal] = defaultdict(Decimal)
    for event in events:
        for rule in by_type.get(event.event_type, ()):
            value = contribution(rule, event)
            if value is not None:
                totals[(rule.id, event.customer_id, utc_day(event.occurred_at))] += value
    return dict(totals)
