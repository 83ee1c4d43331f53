"""All SQL for usage events and meter totals.

How events add up into a meter's value is written once, below, in SQL: the consumer (the new events of a batch),
a new meter's backfill (every stored event) and measurements (the partly covered UTC days at a window's edges) all
use the same expressions. A day is a UTC day.

- An event feeds a meter when its `event_type` is the meter's and its properties contain the meter's `filters`
  (`properties @> filters`: each filtered property present with an equal JSON value; numbers compare by value).
- Its group is the `group_by` property's value as text: a string as it is, a number by value (1.50 is "1.5"),
  anything else as its JSON text. An event without the property (or with null there) is in the group "", as is
  every event of a meter without `group_by`.
- Per (meter, customer, day, group): `count` counts events; `sum` adds the property's JSON numbers exactly (as
  numeric), `max` keeps the greatest, `latest` keeps the one of the event with the greatest (occurred_at,
  event_id byte by byte). Those three ignore events whose property is not a JSON number. `unique_count` keeps the
  day's distinct values of the property (missing and null are no value), each by the SHA-256 of its canonical
  JSON text with numbers by value: 1 and 1.0 are one value, 1 and "1" two.
- Over a period of days: count and sum add the days up, max takes the greatest, latest the value of the latest
  event, unique_count counts the distinct values of all the days together (not the sum of daily counts).
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from asyncpg import UniqueViolationError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.db import asyncpg_connection

from billing.catalog.models import Meter
from billing.usage.window import UsageWindow, window_arrays

# Recording usage holds this shared and creating a meter holds it exclusively, so every event is counted by
# exactly one of the two: the consumer (the meter existed) or the meter's backfill (the event had committed).
METER_SET_LOCK = 7_361_042

# Events `e` joined to the meters `m` they feed.
_FEEDS = "m.event_type = e.event_type AND e.properties @> m.filters"
_UTC_DAY = "(e.occurred_at AT TIME ZONE 'UTC')::date"
_NUMBER = "(e.properties ->> m.property)::numeric"
_ADDS_A_NUMBER = "(m.aggregation = 'count' OR jsonb_typeof(e.properties -> m.property) = 'number')"
_GROUP = """CASE WHEN m.group_by IS NULL THEN '' ELSE coalesce(
    CASE jsonb_typeof(e.properties -> m.group_by)
        WHEN 'number' THEN trim_scale((e.properties ->> m.group_by)::numeric)::text
        ELSE e.properties ->> m.group_by END, '') END"""
_DISTINCT_VALUE = """CASE jsonb_typeof(e.properties -> m.property)
    WHEN 'number' THEN trim_scale((e.properties ->> m.property)::numeric)::text
    ELSE (e.properties -> m.property)::text END"""
# Ties on occurred_at go to the greater event_id, byte by byte whatever the database's collation.
_LATEST_FIRST = 'ORDER BY e.occurred_at DESC, e.event_id COLLATE "C" DESC'
_IF_LATEST = "FILTER (WHERE m.aggregation = 'latest')"
_DAY_VALUE = f"""CASE m.aggregation
    WHEN 'count' THEN count(*)
    WHEN 'sum' THEN sum({_NUMBER})
    WHEN 'max' THEN max({_NUMBER})
    ELSE (array_agg({_NUMBER} {_LATEST_FIRST}) {_IF_LATEST})[1] END"""


def _digest(expression: str) -> str:
    """Keys hold digests, not text: a property's value may be longer than an index entry can be."""
    return f"sha256(convert_to({expression}, 'UTF8'))"


def _day_values(events: str, keys: str = "", also: str = "") -> str:
    """count, sum, max and latest meters' values per (meter, customer, day, group) of the events `e` in `events`,
    grouped also by `keys` ("s.idx, ")."""
    return f"""
SELECT {keys}m.id AS meter_id, m.aggregation, e.customer_id, {_UTC_DAY} AS day, {_GROUP} AS group_key,
    {_DAY_VALUE} AS value,
    max(e.occurred_at) {_IF_LATEST} AS latest_at,
    (array_agg(e.event_id {_LATEST_FIRST}) {_IF_LATEST})[1] AS latest_event_id
FROM {events} JOIN meters m ON {_FEEDS}
WHERE m.aggregation <> 'unique_count' AND {_ADDS_A_NUMBER} {also}
GROUP BY {keys}m.id, e.customer_id, {_UTC_DAY}, {_GROUP}
"""


def _distinct_values(events: str, keys: str = "", also: str = "") -> str:
    """unique_count meters' distinct values per (meter, customer, day, group) of the events `e` in `events`."""
    return f"""
SELECT DISTINCT {keys}m.id AS meter_id, e.customer_id, {_UTC_DAY} AS day, {_GROUP} AS group_key,
    {_digest(_DISTINCT_VALUE)} AS value_digest
FROM {events} JOIN meters m ON {_FEEDS}
WHERE m.aggregation = 'unique_count' AND jsonb_typeof(e.properties -> m.property) <> 'null' {also}
"""


# How a day's kept value takes in more events: one upsert per rule, rows in key order (consistent lock order).
_MERGE_LATEST = """value = excluded.value, latest_at = excluded.latest_at, latest_event_id = excluded.latest_event_id
    WHERE (excluded.latest_at, excluded.latest_event_id COLLATE "C") > (t.latest_at, t.latest_event_id COLLATE "C")"""
_MERGES = {
    "added": ("aggregation IN ('count', 'sum')", "value = t.value + excluded.value"),
    "maxima": ("aggregation = 'max'", "value = greatest(t.value, excluded.value)"),
    "latest": ("aggregation = 'latest'", _MERGE_LATEST),
}


def _upsert(which: str, merge: str) -> str:
    return f"""
INSERT INTO meter_daily_totals AS t
    (meter_id, customer_id, day, group_key, group_digest, value, latest_at, latest_event_id)
SELECT meter_id, customer_id, day, group_key, {_digest("group_key")}, value, latest_at, latest_event_id
FROM day_values WHERE {which}
ORDER BY 1, 2, 3, 5
ON CONFLICT (meter_id, customer_id, day, group_digest) DO UPDATE SET {merge}
"""


def _add_to_totals(events: str, also: str = "") -> str:
    """The CTEs that add the events `e` in `events` to every meter they feed: daily totals and distinct values."""
    upserts = ",\n".join(f"{name} AS ({_upsert(which, merge)})" for name, (which, merge) in _MERGES.items())
    return f"""day_values AS ({_day_values(events, also=also)}),
{upserts},
distinct_values AS (
    INSERT INTO meter_daily_distinct (meter_id, customer_id, day, group_key, group_digest, value_digest)
    SELECT meter_id, customer_id, day, group_key, {_digest("group_key")}, value_digest
    FROM ({_distinct_values(events, also=also)}) v
    ORDER BY 1, 2, 3, 5, 6
    ON CONFLICT DO NOTHING
)"""


def _record(if_seen: str) -> str:
    """One statement, the whole batch as one JSON array parameter of [customer_id, event_id, event_type,
    occurred_at, properties] rows (one orjson call: encoding five typed arrays cost the worker four times as much,
    and Postgres parses the properties either way): insert the events and add them to the totals."""
    return f"""
WITH new AS (
    INSERT INTO usage_events (customer_id, event_id, event_type, occurred_at, properties)
    SELECT e ->> 0, e ->> 1, e ->> 2, (e ->> 3)::timestamptz, e -> 4 FROM jsonb_array_elements($1::jsonb) e
    {if_seen}
    RETURNING customer_id, event_id, event_type, occurred_at, properties
), {_add_to_totals("new e")}
SELECT count(*) FROM new
"""


# Every event new: fails on the first one seen before (or repeated in the batch), by the primary key.
_RECORD_ALL_NEW = _record("")
# The events not seen before only (the first copy wins, here as across batches): each row is checked before it is
# inserted, which cost Postgres about 6 us an event more (a third of the insert).
_RECORD_NOT_SEEN = _record("ON CONFLICT (customer_id, event_id) DO NOTHING")

_BACKFILL = f"WITH {_add_to_totals('usage_events e', also='AND m.id = :meter_id')} SELECT 1"

# Measuring windows: their whole days from the kept totals, their partly covered days from the events.
_WINDOWS = """whole AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::date[], $4::date[]) AS w(idx, customer_id, first_day, last_day)
), spans AS (
    SELECT * FROM unnest($5::int[], $6::text[], $7::timestamptz[], $8::timestamptz[])
        AS s(idx, customer_id, span_start, span_end)
)"""
# Each span's events through the index on (customer_id, event_type, occurred_at); OFFSET 0 keeps the planner from
# flattening the subquery into a hash join over every event.
_SPAN_EVENTS = """spans s CROSS JOIN LATERAL (
    SELECT * FROM usage_events u
    WHERE u.customer_id = s.customer_id AND u.occurred_at >= s.span_start AND u.occurred_at < s.span_end
        AND u.event_type = ANY(ARRAY(SELECT event_type FROM meters WHERE id = ANY($9::text[])))
    OFFSET 0
) e"""
_MEASURED = "AND m.id = ANY($9::text[])"
_WHOLE_DAYS = """whole w JOIN {table} t ON t.meter_id = ANY($9::text[]) AND t.customer_id = w.customer_id
    AND t.day BETWEEN w.first_day AND w.last_day"""
_PERIOD_VALUE = f"""CASE m.aggregation
    WHEN 'max' THEN max(d.value)
    WHEN 'latest' THEN
        (array_agg(d.value ORDER BY d.latest_at DESC, d.latest_event_id COLLATE "C" DESC) {_IF_LATEST})[1]
    ELSE sum(d.value) END"""


def _measure_totals(group: str) -> str:
    return f"""
WITH {_WINDOWS}, days AS (
    SELECT w.idx, t.meter_id, t.group_key, t.value, t.latest_at, t.latest_event_id
    FROM {_WHOLE_DAYS.format(table="meter_daily_totals")}
    UNION ALL
    SELECT idx, meter_id, group_key, value, latest_at, latest_event_id
    FROM ({_day_values(_SPAN_EVENTS, keys="s.idx, ", also=_MEASURED)}) partial_days
)
SELECT d.idx, m.id, {group}, {_PERIOD_VALUE}
FROM days d JOIN meters m ON m.id = d.meter_id
GROUP BY d.idx, m.id, 3
"""


def _measure_distinct(group: str) -> str:
    return f"""
WITH {_WINDOWS}, seen AS (
    SELECT w.idx, t.meter_id, t.group_key, t.value_digest
    FROM {_WHOLE_DAYS.format(table="meter_daily_distinct")}
    UNION ALL
    SELECT idx, meter_id, group_key, value_digest
    FROM ({_distinct_values(_SPAN_EVENTS, keys="s.idx, ", also=_MEASURED)}) partial_days
)
SELECT d.idx, d.meter_id, {group}, count(DISTINCT d.value_digest)
FROM seen d
GROUP BY 1, 2, 3
"""


# by_group -> (statement for count/sum/max/latest meters, statement for unique_count meters)
_MEASURE = {
    by_group: (_measure_totals(group), _measure_distinct(group))
    for by_group, group in ((True, "d.group_key"), (False, "NULL::text"))
}


async def lock_meter_set(session: AsyncSession, *, exclusive: bool) -> None:
    lock = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    await session.execute(text(f"SELECT {lock}(:key)"), {"key": METER_SET_LOCK})


# customer_id, event_id, event_type, occurred_at, properties
UsageRow = tuple[str, str, str, datetime, Any]


async def record_events(session: AsyncSession, events: Sequence[UsageRow]) -> int:
    """Record the events not seen before (in the order given) and add them to every matching meter's totals;
    returns how many were new. Most batches hold new events only and are inserted as such; one that holds an event
    seen before is inserted again, each row checked first."""
    if not events:
        return 0
    connection, rows = await asyncpg_connection(session), orjson.dumps(events).decode()
    try:
        async with connection.transaction():  # a savepoint: a duplicate undoes this attempt only
            new: int = await connection.fetchval(_RECORD_ALL_NEW, rows)
    except UniqueViolationError:
        new = await connection.fetchval(_RECORD_NOT_SEEN, rows)
    return new


async def backfill_totals(session: AsyncSession, meter_id: str) -> None:
    """Compute a new meter's totals from every event already recorded."""
    await session.execute(text(_BACKFILL), {"meter_id": meter_id})


@dataclass(frozen=True)
class WindowValue:
    window: int  # the window's index in what was measured
    meter_id: str
    group_key: str | None  # None unless measured by group
    value: Decimal


async def measure_windows(
    session: AsyncSession, meters: Sequence[Meter], windows: Sequence[UsageWindow], *, by_group: bool
) -> list[WindowValue]:
    """Each meter's value over each window (per group when `by_group`), in at most two statements whatever the
    number of windows. Windows, meters and groups without usage have no value here."""
    arrays = window_arrays(windows)
    parameters = (
        arrays.day_window,
        arrays.day_customer,
        arrays.first_day,
        arrays.last_day,
        arrays.span_window,
        arrays.span_customer,
        arrays.span_start,
        arrays.span_end,
    )
    totals_statement, distinct_statement = _MEASURE[by_group]
    values: list[WindowValue] = []
    for statement, ids in (
        (totals_statement, [meter.id for meter in meters if meter.aggregation != "unique_count"]),
        (distinct_statement, [meter.id for meter in meters if meter.aggregation == "unique_count"]),
    ):
        if ids and windows:
            rows = await (await asyncpg_connection(session)).fetch(statement, *parameters, ids)
            values += [WindowValue(row[0], row[1], row[2], Decimal(row[3])) for row in rows]
    return values
