"""All SQL for attribution: conversions from the revenue projections, and the usage touchpoints before them."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.db import asyncpg_connection

from analytics.attribution.allocate import Touch

# Each invoice paid (when it became paid), for its total.
_PAID = """
SELECT customer_id, changed_at, total_minor, currency FROM invoices
WHERE status = 'paid' AND total_minor > 0 AND changed_at >= $1 AND changed_at < $2
ORDER BY changed_at, id
"""
# Each subscription's first state that counts MRR: when it started paying, and what it brought.
_NEW_MRR = """
SELECT customer_id, valid_from, mrr_minor, currency FROM (
    SELECT DISTINCT ON (subscription_id) customer_id, valid_from, mrr_minor, currency
    FROM mrr_segments WHERE mrr_minor > 0 ORDER BY subscription_id, valid_from
) first_paying
WHERE valid_from >= $1 AND valid_from < $2
ORDER BY valid_from, customer_id
"""
_CONVERSION_SQL = {"paid_invoices": _PAID, "new_subscriptions": _NEW_MRR}

# Conversion i's customer's events in (at - lookback, at]; usage names customers by external id.
_TOUCHES = """
WITH conversions AS (
    SELECT * FROM unnest($1::int[], $2::text[], $3::timestamptz[]) AS c(idx, customer_id, at)
), keys AS (
    SELECT c.idx, c.at, coalesce(k.external_id, c.customer_id) AS customer_key
    FROM conversions c LEFT JOIN customers k ON k.id = c.customer_id
)
SELECT keys.idx, e.event_type, e.occurred_at
FROM keys JOIN usage_events e ON e.customer_key = keys.customer_key
    AND e.occurred_at > keys.at - $4::interval AND e.occurred_at <= keys.at
    AND ($5::text[] IS NULL OR e.event_type = ANY($5::text[]))
ORDER BY keys.idx, e.occurred_at, e.event_id COLLATE "C"
"""


@dataclass(frozen=True)
class RawConversion:
    customer_id: str
    at: datetime
    amount_minor: int
    currency: str


async def conversions(session: AsyncSession, revenue: str, start: datetime, end: datetime) -> list[RawConversion]:
    rows = await (await asyncpg_connection(session)).fetch(_CONVERSION_SQL[revenue], start, end)
    return [RawConversion(row[0], row[1], int(row[2]), row[3]) for row in rows]


async def touches(
    session: AsyncSession,
    found: Sequence[RawConversion],
    lookback: timedelta,
    event_types: Sequence[str] | None,
) -> dict[int, list[Touch]]:
    """Conversion index -> its touchpoints, in (time, event id) order."""
    if not found:
        return {}
    arguments = (
        list(range(len(found))),
        [c.customer_id for c in found],
        [c.at for c in found],
        lookback,
        list(event_types) if event_types is not None else None,
    )
    result: dict[int, list[Touch]] = {}
    for row in await (await asyncpg_connection(session)).fetch(_TOUCHES, *arguments):
        result.setdefault(row[0], []).append(Touch(row[2], row[1]))
    return result
