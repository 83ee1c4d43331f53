"""All SQL for invoices."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from billing.invoices.models import Invoice, RejectedLateUsage

_NEXT_NUMBER = text("""
INSERT INTO invoice_number_counters AS c (year, last) VALUES (:year, 1)
ON CONFLICT (year) DO UPDATE SET last = c.last + 1
RETURNING last
""")


async def next_number(session: AsyncSession, year: int) -> int:
    """The year's next invoice number. The counter row stays locked until the transaction ends, and a rollback
    gives the number back: numbers have no gaps."""
    number: int = (await session.execute(_NEXT_NUMBER, {"year": year})).scalar_one()
    return number


async def invoice_by_id(session: AsyncSession, invoice_id: str, *, for_update: bool = False) -> Invoice | None:
    query = select(Invoice).where(Invoice.id == invoice_id)
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query)).scalar_one_or_none()


async def list_invoices(
    session: AsyncSession, customer_id: str | None, status: str | None, after: str | None, limit: int
) -> Sequence[Invoice]:
    query = select(Invoice).order_by(Invoice.id.desc()).limit(limit)
    if customer_id:
        query = query.where(Invoice.customer_id == customer_id)
    if status:
        query = query.where(Invoice.status == status)
    if after:
        query = query.where(Invoice.id < after)
    return (await session.execute(query)).scalars().all()


async def lock_drafts_due(session: AsyncSession, created_before: datetime, limit: int) -> Sequence[Invoice]:
    query = (
        select(Invoice)
        .where(Invoice.status == "draft", Invoice.created_at <= created_before)
        .order_by(Invoice.created_at, Invoice.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    return (await session.execute(query)).scalars().all()


async def rejected_late_usage(session: AsyncSession, customer_id: str, limit: int) -> Sequence[RejectedLateUsage]:
    query = (
        select(RejectedLateUsage)
        .where(RejectedLateUsage.customer_id == customer_id)
        .order_by(RejectedLateUsage.recorded_at.desc(), RejectedLateUsage.event_id)
        .limit(limit)
    )
    return (await session.execute(query)).scalars().all()
