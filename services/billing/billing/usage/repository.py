"""All SQL for usage events and meter totals.

How events add up into a meter's value is written once, below, in SQL: the consumer, a new meter's backfill and
the partial days of a report all use it. `count` counts events; `sum` adds the property's JSON numbers exactly
(as numeric) and ignores events where it is not a number. A day is a UTC day.
"""

from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.usage.models import MeterDailyTotal

# Recording usage holds this shared and creating a meter holds it exclusively, so every event is counted by
# exactly one of the two: the consumer (the meter existed) or the meter's backfill (the event had committed).
METER_SET_LOCK = 7_361_042

# Events `e` joined to the meters `m` they feed.
_UTC_DAY = "(e.occurred_at AT TIME ZONE 'UTC')::date"
_COUNTS = "(m.aggregation = 'count' OR jsonb_typeof(e.properties -> m.property) = 'number')"
_VALUE = "sum(CASE WHEN m.aggregation = 'count' THEN 1 ELSE (e.properties ->> m.property)::numeric END)"
_ADD_TO_TOTALS = """
INSERT INTO meter_daily_totals AS t (meter_id, customer_id, day, value)
SELECT m.id, e.customer_id, {day}, {value}
FROM {events} e JOIN meters m ON m.event_type = e.event_type
WHERE {counts} {also}
GROUP BY 1, 2, 3
ORDER BY 1, 2, 3
ON CONFLICT (meter_id, customer_id, day) DO UPDATE SET value = t.value + excluded.value
"""


def _add_to_totals(events: str, also: str = "") -> str:
    return _ADD_TO_TOTALS.format(day=_UTC_DAY, value=_VALUE, events=events, counts=_COUNTS, also=also)


# One statement, whole arrays as parameters (far faster than a row of VALUES per event, and no parameter limit):
# insert the events not seen before (the first copy wins, here as across batches) and add just those to the totals.
_RECORD = f"""
WITH new AS (
    INSERT INTO usage_events (customer_id, event_id, event_type, occurred_at, properties)
    SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
    ON CONFLICT (customer_id, event_id) DO NOTHING
    RETURNING customer_id, event_type, occurred_at, properties
), totals AS ({_add_to_totals("new")})
SELECT count(*) FROM new
"""

_BACKFILL = _add_to_totals("usage_events", also="AND m.id = :meter_id")

_EVENT_DAY_VALUES = f"""
SELECT {_UTC_DAY}, {_VALUE}
FROM usage_events e JOIN meters m ON m.event_type = e.event_type
WHERE m.id = :meter_id AND e.customer_id = :customer_id AND e.occurred_at >= :start AND e.occurred_at < :end
  AND {_COUNTS}
GROUP BY 1
"""


async def lock_meter_set(session: AsyncSession, *, exclusive: bool) -> None:
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {lock}(:key)"), {"key": METER_SET_LOCK})


@dataclass
class EventColumns:
    """Usage events column by column, in the order they were sent: the shape the insert sends."""

    customer_ids: list[str] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    event_types: list[str] = field(default_factory=list)
    occurred_at: list[datetime] = field(default_factory=list)
    properties: list[Any] = field(default_factory=list)

    def append(self, customer_id: str, event_id: str, event_type: str, at: datetime, properties: Any) -> None:
        self.customer_ids.append(customer_id)
        self.event_ids.append(event_id)
        self.event_types.append(event_type)
        self.occurred_at.append(at)
        self.properties.append(properties)


async def record_events(session: AsyncSession, events: EventColumns) -> int:
    """Record the events not seen before and add them to every matching meter's totals; returns how many were new."""
    if not events.event_ids:
        return 0
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None, "asyncpg connection expected"
    properties = [orjson.dumps(value).decode() for value in events.properties]
    arrays = (events.customer_ids, events.event_ids, events.event_types, events.occurred_at, properties)
    new: int = await driver.fetchval(_RECORD, *arrays)
    return new


async def backfill_totals(session: AsyncSession, meter_id: str) -> None:
    """Compute a new meter's totals from every event already recorded."""
    await session.execute(text(_BACKFILL), {"meter_id": meter_id})


async def stored_daily_totals(
    session: AsyncSession, meter_id: str, customer_id: str, first: date, last: date
) -> dict[date, Decimal]:
    """The kept totals for whole UTC days first..last (inclusive)."""
    query = select(MeterDailyTotal.day, MeterDailyTotal.value).where(
        MeterDailyTotal.meter_id == meter_id,
        MeterDailyTotal.customer_id == customer_id,
        MeterDailyTotal.day.between(first, last),
    )
    return {day: value for day, value in (await session.execute(query)).all()}


async def event_daily_totals(
    session: AsyncSession, meter_id: str, customer_id: str, start: datetime, end: datetime
) -> dict[date, Decimal]:
    """Totals straight from the events in [start, end), per UTC day: for days the window covers in part."""
    parameters = {"meter_id": meter_id, "customer_id": customer_id, "start": start, "end": end}
    rows = await session.execute(text(_EVENT_DAY_VALUES), parameters)
    return {day: value for day, value in rows.all()}
