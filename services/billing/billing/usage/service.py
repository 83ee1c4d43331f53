"""Usage use cases. The caller owns the transaction."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from contracts.usage import UsageRecordedEvent
from sqlalchemy.ext.asyncio import AsyncSession

from billing.catalog import repository as catalog_repository
from billing.usage import repository
from billing.usage.aggregation import MeterRule, daily_totals
from billing.usage.schemas import DailyValue, UsageReport
from billing.usage.window import split_window

MAX_WINDOW = timedelta(days=366)


class UnknownMeter(Exception):
    pass


async def record_usage(session: AsyncSession, events: Sequence[UsageRecordedEvent]) -> int:
    """Record each event once and add the new ones to every matching meter's totals. Returns how many were new."""
    rows = {
        (e.data.customer_id, e.id): {
            "customer_id": e.data.customer_id,
            "event_id": e.id,
            "event_type": e.data.event_type,
            "occurred_at": e.data.timestamp,
            "properties": e.data.properties,
        }
        for e in events
    }
    await repository.lock_meter_set(session, exclusive=False)
    new_events = await repository.insert_new_events(session, list(rows.values()))
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
