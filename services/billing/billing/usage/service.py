"""Usage use cases. The caller owns the transaction."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent
from sqlalchemy.ext.asyncio import AsyncSession

from billing.catalog import repository as catalog_repository
from billing.usage import repository
from billing.usage.aggregation import MeterRule, RecordedUsage, daily_totals
from billing.usage.schemas import DailyValue, UsageReport
from billing.usage.window import split_window

MAX_WINDOW = timedelta(days=366)


class UnknownMeter(Exception):
    pass


def usage_rows(messages: Sequence[UsageRecordedEvent | UsageBatchRecordedEvent]) -> list[dict[str, Any]]:
    """Every usage event the messages carry, as a usage_events row, in order (duplicates included)."""
    rows: list[dict[str, Any]] = []
    for message in messages:
        if isinstance(message, UsageRecordedEvent):
            data = message.data
            rows.append(_row(data.customer_id, message.id, data.event_type, data.timestamp, data.properties))
        else:
            customer = message.data.customer_id
            rows += [_row(customer, e.event_id, e.event_type, e.timestamp, e.properties) for e in message.data.events]
    return rows


def _row(customer_id: str, event_id: str, event_type: str, at: datetime, properties: object) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "event_id": event_id,
        "event_type": event_type,
        "occurred_at": at,
        "properties": properties,
    }


async def record_usage(session: AsyncSession, rows: Sequence[dict[str, Any]]) -> int:
    """Record each event once and add the new ones to every matching meter's totals. Returns how many were new."""
    unique: dict[tuple[str, str], dict[str, Any]] = {}
    for row in rows:
        unique.setdefault((row["customer_id"], row["event_id"]), row)  # the first copy wins, as in the table
    await repository.lock_meter_set(session, exclusive=False)
    new_keys = await repository.insert_new_events(session, list(unique.values()))
    new_events = [
        RecordedUsage(row["customer_id"], row["event_type"], row["occurred_at"], row["properties"])
        for key, row in unique.items()
        if key in new_keys
    ]
    rules = await catalog_repository.meter_rules(session)
    await repository.add_daily_totals(session, daily_totals(rules, new_events))
    return len(new_events)


async def usage_report(
    session: AsyncSession, customer_id: str, meter_key: str, start: datetime, end: datetime
) -> UsageReport:
    """The meter's total for the customer over [start, end), and its breakdown per UTC day."""
    if end - start > MAX_WINDOW:
        raise ValueError(f"the window is longer than {MAX_WINDOW.days} days")
    meter = await catalog_repository.meter_by_key(session, meter_key)
    if meter is None:
        raise UnknownMeter(meter_key)
    rule = MeterRule(meter.id, meter.event_type, meter.aggregation, meter.property)
    window = split_window(start, end)
    values: dict[date, Decimal] = {}
    if window.whole_days:
        values |= await repository.stored_daily_totals(
            session, meter.id, customer_id, window.whole_days[0], window.whole_days[-1]
        )
    for span_start, span_end in window.partial_spans:
        values |= await repository.event_daily_totals(session, rule, customer_id, span_start, span_end)
    daily = [DailyValue(date=day, value=values.get(day, Decimal(0))) for day in window.days]
    return UsageReport(
        customer_id=customer_id,
        meter=meter.key,
        from_=start.astimezone(UTC),
        to=end.astimezone(UTC),
        total=sum((d.value for d in daily), Decimal(0)),
        daily=daily,
    )
