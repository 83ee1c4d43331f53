"""All SQL for usage events and meter totals."""

from collections.abc import Mapping, Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import ColumnElement, Date, Numeric, cast, func, literal, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.usage.aggregation import MeterRule, TotalKey
from billing.usage.models import MeterDailyTotal, UsageEvent

# Recording usage holds this shared and creating a meter holds it exclusively, so every event is counted by
# exactly one of the two: the consumer (the meter existed) or the meter's backfill (the event had committed).
METER_SET_LOCK = 7_361_042


async def lock_meter_set(session: AsyncSession, *, exclusive: bool) -> None:
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {lock}(:key)"), {"key": METER_SET_LOCK})


# One statement, whole arrays as parameters: far faster than a VALUES row per event, and no parameter limit.
_INSERT_NEW = """
INSERT INTO usage_events (customer_id, event_id, event_type, occurred_at, properties)
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::timestamptz[], $5::jsonb[])
ON CONFLICT (customer_id, event_id) DO NOTHING
RETURNING customer_id, event_id
"""


async def insert_new_events(session: AsyncSession, rows: Sequence[Mapping[str, Any]]) -> set[tuple[str, str]]:
    """Insert the events not seen before; returns the (customer_id, event_id) of just those."""
    if not rows:
        return set()
    driver = (await (await session.connection()).get_raw_connection()).driver_connection
    assert driver is not None, "asyncpg connection expected"
    columns = (
        [row["customer_id"] for row in rows],
        [row["event_id"] for row in rows],
        [row["event_type"] for row in rows],
        [row["occurred_at"] for row in rows],
        [orjson.dumps(row["properties"]).decode() for row in rows],
    )
    inserted = await driver.fetch(_INSERT_NEW, *columns)
    return {(record[0], record[1]) for record in inserted}


async def add_daily_totals(session: AsyncSession, totals: Mapping[TotalKey, Decimal]) -> None:
    if not totals:
        return
    rows = [
        {"meter_id": meter_id, "customer_id": customer_id, "day": day, "value": value}
        for (meter_id, customer_id, day), value in sorted(totals.items())
    ]
    statement = insert(MeterDailyTotal).values(rows)
    statement = statement.on_conflict_do_update(
        index_elements=["meter_id", "customer_id", "day"],
        set_={"value": MeterDailyTotal.value + statement.excluded.value},
    )
    await session.execute(statement)


def _utc_day() -> ColumnElement[date]:
    return cast(func.timezone("UTC", UsageEvent.occurred_at), Date)


def _aggregate(rule: MeterRule) -> ColumnElement[Decimal]:
    """The SQL twin of billing.usage.aggregation.contribution, summed over a group of events."""
    if rule.aggregation == "count":
        return cast(func.count(), Numeric)
    if rule.aggregation == "sum" and rule.property is not None:
        value = UsageEvent.properties[rule.property]
        total = func.sum(cast(value.astext, Numeric)).filter(func.jsonb_typeof(value) == "number")
        return func.coalesce(total, literal(0, Numeric))
    raise ValueError(f"unknown aggregation {rule.aggregation!r}")


async def backfill_totals(session: AsyncSession, rule: MeterRule) -> None:
    """Compute a new meter's totals from every event already recorded."""
    day = _utc_day()
    query = (
        select(literal(rule.id), UsageEvent.customer_id, day, _aggregate(rule))
        .where(UsageEvent.event_type == rule.event_type)
        .group_by(UsageEvent.customer_id, day)
    )
    columns = [
        MeterDailyTotal.meter_id,
        MeterDailyTotal.customer_id,
        MeterDailyTotal.day,
        MeterDailyTotal.value,
    ]
    await session.execute(insert(MeterDailyTotal).from_select(columns, query))


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
    session: AsyncSession, rule: MeterRule, customer_id: str, start: datetime, end: datetime
) -> dict[date, Decimal]:
    """Totals straight from the events in [start, end), per UTC day: for days the window covers in part."""
    day = _utc_day()
    query = (
        select(day, _aggregate(rule))
        .where(
            UsageEvent.customer_id == customer_id,
            UsageEvent.event_type == rule.event_type,
            UsageEvent.occurred_at >= start,
            UsageEvent.occurred_at < end,
        )
        .group_by(day)
    )
    return {row_day: value for row_day, value in (await session.execute(query)).all()}
