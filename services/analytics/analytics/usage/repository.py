"""All SQL for the usage projections: events kept once, daily counts, and reading them by customer and period.

Usage events name customers by the product's external id (`customer_key` here); reads map it to the `cus_` id of
the customers projection when one has it, else keep the external id (usage may come before the customer)."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime

import orjson
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.db import asyncpg_connection

# external id -> cus_ id (the oldest customer, should two share an external id)
KNOWN_CUSTOMERS = """known AS (
    SELECT DISTINCT ON (external_id) external_id, id FROM customers
    WHERE external_id IS NOT NULL ORDER BY external_id, created_at, id
)"""
LIVE = "s.status IN ('trialing', 'active', 'past_due')"

# New events only (the first copy wins, in a batch as across batches), and just those added to the daily counts.
# The batch is one JSON array parameter of rows: one orjson call, where encoding typed arrays (timestamps above
# all) cost the worker several times as much.
_RECORD = """
WITH new AS (
    INSERT INTO usage_events (customer_key, event_id, event_type, occurred_at)
    SELECT e ->> 0, e ->> 1, e ->> 2, (e ->> 3)::timestamptz FROM jsonb_array_elements($1::jsonb) e
    ON CONFLICT DO NOTHING
    RETURNING customer_key, event_type, occurred_at
), added AS (
    INSERT INTO usage_daily AS d (customer_key, event_type, day, events)
    SELECT customer_key, event_type, (occurred_at AT TIME ZONE 'UTC')::date, count(*)
    FROM new GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
    ON CONFLICT (customer_key, event_type, day) DO UPDATE SET events = d.events + excluded.events
)
SELECT count(*) FROM new
"""

# Per period: adopters of each event type, then (event_type NULL) the active customers: any usage in the period, or
# a live subscription during some of it. Customers are counted by external id (one per customer), so the big
# table is never joined; only subscribers are mapped, to their external id.
_ADOPTION = f"""
WITH periods AS (
    SELECT start, stop FROM unnest($4::date[], $5::date[]) AS p(start, stop)
), used AS MATERIALIZED (
    SELECT date_trunc($3, day::timestamp)::date AS period, event_type, customer_key, sum(events) AS events
    FROM usage_daily WHERE day >= $1 AND day < $2
    GROUP BY 1, 2, 3
), active AS (
    SELECT period, customer_key FROM used
    UNION
    SELECT p.start, coalesce(c.external_id, s.customer_id)
    FROM periods p
    JOIN mrr_segments s ON {LIVE} AND s.valid_from < p.stop AND (s.valid_to IS NULL OR s.valid_to > p.start)
    LEFT JOIN customers c ON c.id = s.customer_id
)
SELECT period, event_type, count(*), sum(events) FROM used GROUP BY 1, 2
UNION ALL
SELECT period, NULL, count(*), NULL FROM active GROUP BY 1
"""

# Subscribers at `$1` in currency `$2`; retained: still live at `$3`; their MRR at `$4`. The state at an instant t
# is that of the segments with valid_from < t <= valid_to, as in the revenue metrics.
_SUBSCRIBERS = f"""
WITH cohort AS (
    SELECT DISTINCT s.customer_id FROM mrr_segments s
    WHERE s.currency = $2 AND {LIVE} AND s.valid_from < $1 AND (s.valid_to IS NULL OR s.valid_to >= $1)
)
SELECT c.customer_id,
    EXISTS (SELECT 1 FROM mrr_segments s WHERE s.customer_id = c.customer_id AND {LIVE}
        AND s.valid_from < $3 AND (s.valid_to IS NULL OR s.valid_to >= $3)) AS retained,
    (SELECT coalesce(sum(s.mrr_minor), 0) FROM mrr_segments s WHERE s.customer_id = c.customer_id AND {LIVE}
        AND s.valid_from < $4 AND (s.valid_to IS NULL OR s.valid_to >= $4)) AS mrr
FROM cohort c
"""

# The usage of the customers `$3` (cus_ ids), each found under its external id.
_USAGE_OF = """
WITH wanted AS (
    SELECT w.id, coalesce(c.external_id, w.id) AS customer_key
    FROM unnest($3::text[]) AS w(id) LEFT JOIN customers c ON c.id = w.id
)
SELECT w.id, d.event_type, sum(d.events)
FROM wanted w JOIN usage_daily d ON d.customer_key = w.customer_key AND d.day >= $1 AND d.day < $2
GROUP BY 1, 2
"""

_CUSTOMER_DAYS = """
SELECT day, event_type, events FROM usage_daily
WHERE customer_key = $1 AND day >= $2 AND day < $3 AND ($4::text IS NULL OR event_type = $4)
ORDER BY day, event_type
"""


async def truncate(session: AsyncSession) -> None:
    await (await asyncpg_connection(session)).execute("TRUNCATE usage_events, usage_daily")


async def analyze(session: AsyncSession) -> None:
    """Fresh planner statistics after a rebuild, without waiting for autovacuum (which may be off)."""
    await (await asyncpg_connection(session)).execute("ANALYZE usage_events, usage_daily")


# customer_key, event_id, event_type, occurred_at
UsageRow = tuple[str, str, str, datetime]


async def record_events(session: AsyncSession, events: Sequence[UsageRow]) -> int:
    """Keep the events not seen before (in the order given) and add them to the daily counts; returns how many
    were new."""
    if not events:
        return 0
    new: int = await (await asyncpg_connection(session)).fetchval(_RECORD, orjson.dumps(events).decode())
    return new


@dataclass(frozen=True)
class Adopters:
    period: date
    event_type: str
    customers: int
    events: int


async def adoption(
    session: AsyncSession, period: str, starts: Sequence[date], stops: Sequence[date]
) -> tuple[list[Adopters], dict[date, int]]:
    """Adopters per period and event type, and active customers per period; `starts` and `stops` bound the
    periods, in order."""
    connection = await asyncpg_connection(session)
    rows = await connection.fetch(_ADOPTION, starts[0], stops[-1], period, list(starts), list(stops))
    adopters = [Adopters(row[0], row[1], row[2], int(row[3])) for row in rows if row[1] is not None]
    return adopters, {row[0]: row[2] for row in rows if row[1] is None}


@dataclass(frozen=True)
class Subscriber:
    customer_id: str
    retained: bool
    mrr_minor: int


async def subscribers(
    session: AsyncSession, at: datetime, currency: str, retained_at: datetime, mrr_at: datetime
) -> list[Subscriber]:
    rows = await (await asyncpg_connection(session)).fetch(_SUBSCRIBERS, at, currency, retained_at, mrr_at)
    return [Subscriber(row[0], row[1], int(row[2])) for row in rows]


async def usage_of(
    session: AsyncSession, customers: Sequence[str], first: date, end: date
) -> dict[tuple[str, str], int]:
    """(cus_ id, event type) -> events over [first, end), for the given customers."""
    rows = await (await asyncpg_connection(session)).fetch(_USAGE_OF, first, end, list(customers))
    return {(row[0], row[1]): int(row[2]) for row in rows}


async def customer_days(
    session: AsyncSession, customer_key: str, first: date, end: date, event_type: str | None
) -> list[tuple[date, str, int]]:
    rows = await (await asyncpg_connection(session)).fetch(_CUSTOMER_DAYS, customer_key, first, end, event_type)
    return [(row[0], row[1], int(row[2])) for row in rows]


async def resolve_customer(session: AsyncSession, id_or_external: str) -> tuple[str, str] | None:
    """(cus_ id or the external id when no customer has it, external id), or None when nothing knows it."""
    connection = await asyncpg_connection(session)
    if id_or_external.startswith("cus_"):
        row = await connection.fetchrow("SELECT id, external_id FROM customers WHERE id = $1", id_or_external)
        return None if row is None else (row[0], row[1] or row[0])
    row = await connection.fetchrow(
        "SELECT id FROM customers WHERE external_id = $1 ORDER BY created_at, id LIMIT 1", id_or_external
    )
    if row is not None:
        return row[0], id_or_external
    seen = await connection.fetchval("SELECT 1 FROM usage_daily WHERE customer_key = $1 LIMIT 1", id_or_external)
    return None if seen is None else (id_or_external, id_or_external)
