"""The worker's invoice run: settle the late usage of periods whose grace window is over, close every ended period,
then finalize the drafts whose draft time is over."""

from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.invoices import closing, late_usage, service


async def invoice_run(
    sessions: async_sessionmaker[AsyncSession], draft_for: timedelta, grace: timedelta
) -> tuple[int, int]:
    """Returns (periods closed, invoices finalized)."""
    now = datetime.now(UTC)
    await late_usage.settle_due(sessions, now, grace)
    closed = await closing.close_due(sessions, now)
    finalized = await service.finalize_drafts(sessions, now, draft_for)
    return closed, finalized
