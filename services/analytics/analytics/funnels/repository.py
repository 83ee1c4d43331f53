"""All SQL for funnels: the events of the steps' types, customer by customer in (time, event id) order."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.db import asyncpg_connection

from analytics.funnels.walk import Event

_STEP_EVENTS = """
SELECT customer_key, event_type, occurred_at FROM usage_events
WHERE event_type = ANY($1::text[]) AND occurred_at >= $2 AND occurred_at < $3
ORDER BY customer_key COLLATE "C", occurred_at, event_id COLLATE "C"
"""


async def journeys(
    session: AsyncSession, event_types: Sequence[str], start: datetime, end: datetime
) -> list[list[Event]]:
    """Per customer, their events of `event_types` in [start, end)."""
    rows = await (await asyncpg_connection(session)).fetch(_STEP_EVENTS, list(set(event_types)), start, end)
    result: list[list[Event]] = []
    current: str | None = None
    for row in rows:
        if row[0] != current:
            current = row[0]
            result.append([])
        result[-1].append(Event(row[2], row[1]))
    return result
