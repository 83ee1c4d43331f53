"""All SQL for RFM: each customer's last active day, active days and net paid revenue over a window.

Active on a day: any usage, or an invoice paid (the day it became paid). Net paid revenue: the totals of the
invoices paid in the window, less the refunds in it, in the currency asked for."""

from datetime import date

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.db import asyncpg_connection

from analytics.segments.rfm import Activity
from analytics.usage.periods import midnight
from analytics.usage.repository import KNOWN_CUSTOMERS

# $1, $2: the days [first, end); $3: the currency; $4, $5: the same window as instants. Days are gathered by
# external id (billing's rows mapped to it), so the big table is never joined; customers are named at the end.
_ACTIVITY = f"""WITH {KNOWN_CUSTOMERS}, money AS (
    SELECT coalesce(c.external_id, i.customer_id) AS customer_key, (i.changed_at AT TIME ZONE 'UTC')::date AS day,
        true AS paid, CASE WHEN i.currency = $3 THEN i.total_minor ELSE 0 END AS amount
    FROM invoices i LEFT JOIN customers c ON c.id = i.customer_id
    WHERE i.status = 'paid' AND i.changed_at >= $4 AND i.changed_at < $5
    UNION ALL
    SELECT coalesce(c.external_id, p.customer_id), (p.occurred_at AT TIME ZONE 'UTC')::date, false,
        CASE WHEN p.currency = $3 THEN -p.amount_minor ELSE 0 END
    FROM payments p LEFT JOIN customers c ON c.id = p.customer_id
    WHERE p.outcome = 'refunded' AND p.occurred_at >= $4 AND p.occurred_at < $5
), usage_keys AS (
    SELECT customer_key, max(day) AS last_day, count(*) AS days
    FROM (SELECT customer_key, day FROM usage_daily WHERE day >= $1 AND day < $2 GROUP BY 1, 2) used
    GROUP BY 1
), paid_only AS (
    SELECT customer_key, max(day) AS last_day, count(*) AS days
    FROM (SELECT DISTINCT customer_key, day FROM money WHERE paid) m
    WHERE NOT EXISTS (SELECT 1 FROM usage_daily d WHERE d.customer_key = m.customer_key AND d.day = m.day)
    GROUP BY 1
), per_key AS (
    SELECT customer_key, max(last_day) AS last_day, sum(days) AS days
    FROM (SELECT * FROM usage_keys UNION ALL SELECT * FROM paid_only) both_kinds
    GROUP BY 1
), net AS (
    SELECT customer_key, sum(amount) AS amount FROM money GROUP BY 1
)
SELECT coalesce(k.id, a.customer_key), a.last_day, a.days::bigint, coalesce(n.amount, 0)
FROM per_key a
LEFT JOIN net n ON n.customer_key = a.customer_key
LEFT JOIN known k ON k.external_id = a.customer_key
LEFT JOIN customers c ON c.id = k.id
WHERE c.currency IS NULL OR c.currency = $3
ORDER BY 1
"""


async def activity(session: AsyncSession, first: date, last: date, currency: str) -> list[Activity]:
    """Customers active (usage, or an invoice paid) in the days [first, last], in `currency` or not yet known."""
    end = date.fromordinal(last.toordinal() + 1)
    connection = await asyncpg_connection(session)
    rows = await connection.fetch(_ACTIVITY, first, end, currency, midnight(first), midnight(end))
    return [Activity(row[0], (last - row[1]).days, row[2], int(row[3])) for row in rows]
