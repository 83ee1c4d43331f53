"""Usage use cases. The caller owns the transaction."""

from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Recorded

from billing.catalog import repository as catalog_repository
from billing.usage import repository
from billing.usage.schemas import DailyValue, UsageReport
from billing.usage.window import split_window

MAX_WINDOW = timedelta(days=366)


class UnknownMeter(Exception):
    pass


async def record_usage(
    session: AsyncSession, messages: Sequence[UsageRecordedEvent | UsageBatchRecordedEvent]
) -> Recorded:
    """Record each event the messages carry once, and add the new ones to every matching meter's totals."""
    events = repository.EventColumns()
    for message in messages:
        if isinstance(message, UsageRecordedEvent):
            data = message.data
            events.append(data.customer_id, message.id, data.event_type, data.timestamp, data.properties)
        else:
            customer_id = message.data.customer_id
            for item in message.data.events:
                events.append(customer_id, item.event_id, item.event_type, item.timestamp, item.properties)
    await repository.lock_meter_set(session, exclusive=False)
    new = await repository.record_events(session, events)
    return Recorded(events=len(events.event_ids), new=new)


async def usage_report(
    session: AsyncSession, customer_id: str, meter_key: str, start: datetime, end: datetime
) -> UsageReport:
    """The meter's total for the customer over [start, end), and its breakdown per UTC day."""
    if end - start > MAX_WINDOW:
        raise ValueError(f"the window is longer than {MAX_WINDOW.days} days")
    meter = await catalog_repository.meter_by_key(session, meter_key)
    if meter is None:
        raise UnknownMeter(meter_key)
    window = split_window(start, end)
    values: dict[date, Decimal] = {}
    if window.whole_days:
        values |= await repository.stored_daily_totals(
            session, meter.id, customer_id, window.whole_days[0], window.whole_days[-1]
        )
    for span_start, span_end in window.partial_spans:
        values |= await repository.event_daily_totals(session, meter.id, customer_id, span_start, span_end)
    daily = [DailyValue(date=day, value=values.get(day, Decimal(0))) for day in window.days]
    return UsageReport(
        customer_id=customer_id,
        meter=meter.key,
        from_=start.astimezone(UTC),
        to=end.astimezone(UTC),
        total=sum((d.value for d in daily), Decimal(0)),
        daily=daily,
    )
