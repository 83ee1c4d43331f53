"""Usage use cases. The caller owns the transaction."""

from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from contracts.usage import UsageBatchRecordedEvent, UsageRecordedEvent, usage_items
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.consumer import Recorded

from billing.catalog import repository as catalog_repository
from billing.catalog.models import Meter
from billing.usage import repository
from billing.usage.schemas import DailyValue, GroupTotal, UsageReport
from billing.usage.window import UsageWindow, day_windows

__all__ = ["MAX_WINDOW", "UnknownMeter", "UsageWindow", "measure", "record_usage", "usage_report"]

MAX_WINDOW = timedelta(days=366)
# (customer_id, meter key, group) -> quantity; the group is None for a meter without group_by.
Measures = dict[tuple[str, str, str | None], Decimal]


class UnknownMeter(Exception):
    pass


async def record_usage(
    session: AsyncSession, messages: Sequence[UsageRecordedEvent | UsageBatchRecordedEvent]
) -> Recorded:
    """Record each event the messages carry once, and add the new ones to every matching meter's totals."""
    events = [
        (customer_id, item.event_id, item.event_type, item.timestamp, item.properties)
        for message in messages
        for customer_id, item in usage_items(message)
    ]
    await repository.lock_meter_set(session, exclusive=False)
    new = await repository.record_events(session, events)
    return Recorded(events=len(events), new=new)


async def measure(session: AsyncSession, meter_keys: Sequence[str], windows: Sequence[UsageWindow]) -> Measures:
    """(customer_id, meter_key, group) -> quantity over each window; group None for meters without group_by.
    Customers/meters with no usage may be absent (callers treat absent as 0).

    One window per customer (the same window repeated is fine); whole UTC days come from the kept daily totals
    and the partly covered days at the windows' edges from the events, all windows in one or two statements.
    Raises UnknownMeter for a key no meter has, ValueError for naive, empty or competing windows."""
    windows = list(dict.fromkeys(windows))
    customers = [window.customer_id for window in windows]
    if len(set(customers)) < len(customers):
        raise ValueError("more than one window for a customer")
    meters = await _meters(session, meter_keys)
    if not meters or not windows:
        return {}
    by_id = {meter.id: meter for meter in meters}
    measured: Measures = {}
    for value in await repository.measure_windows(session, meters, windows, by_group=True):
        meter = by_id[value.meter_id]
        group = value.group_key if meter.group_by is not None else None
        measured[windows[value.window].customer_id, meter.key, group] = value.value
    return measured


async def _meters(session: AsyncSession, keys: Sequence[str]) -> list[Meter]:
    meters = await catalog_repository.meters_by_keys(session, list(dict.fromkeys(keys)))
    missing = set(keys) - {meter.key for meter in meters}
    if missing:
        raise UnknownMeter(", ".join(sorted(missing)))
    return meters


async def usage_report(
    session: AsyncSession, customer_id: str, meter_key: str, start: datetime, end: datetime
) -> UsageReport:
    """The meter's value for the customer over [start, end), its value on each UTC day and, for a meter with
    group_by, each group's value over the window: measured as invoices measure."""
    if end - start > MAX_WINDOW:
        raise ValueError(f"the window is longer than {MAX_WINDOW.days} days")
    [meter] = await _meters(session, [meter_key])
    window = UsageWindow(customer_id, start, end)
    days = day_windows(window)
    values = await repository.measure_windows(session, [meter], [window, *days], by_group=False)
    by_window = {value.window: value.value for value in values}
    groups = None
    if meter.group_by is not None:
        grouped = await repository.measure_windows(session, [meter], [window], by_group=True)
        groups = [GroupTotal(group=v.group_key or "", total=v.value) for v in sorted(grouped, key=_group_order)]
    return UsageReport(
        customer_id=customer_id,
        meter=meter.key,
        from_=start.astimezone(UTC),
        to=end.astimezone(UTC),
        total=by_window.get(0, Decimal(0)),
        daily=[DailyValue(date=d.start.date(), value=by_window.get(n, Decimal(0))) for n, d in enumerate(days, 1)],
        groups=groups,
    )


def _group_order(value: repository.WindowValue) -> str:
    return value.group_key or ""
