"""The worker's invoice run: close every ended period, then finalize the drafts whose draft time is over."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.invoices import closing, service


async def invoice_run(sessions: async_sessionmaker[AsyncSession], draft_for: timedelta) -> tuple[int, int]:
    """Returns (periods closed, invoices finalized)."""
    now = datetime.now(UTC)
    closed = await closing.close_due(sessions, now)
    finalized = await service.finalize_drafts(sessions, now, draft_for)
    return closed, finalized
