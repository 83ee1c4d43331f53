"""All SQL for subscriptions."""

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.subscriptions.models import Subscription


async def subscription_by_id(
    session: AsyncSession, subscription_id: str, *, for_update: bool = False
) -> Subscription | None:
    query = select(Subscription).where(Subscription.id == subscription_id)
    if for_update:
        query = query.with_for_update(of=Subscription)
    return (await session.execute(query)).unique().scalar_one_or_none()


async def live_subscription_ids(session: AsyncSession, customer_id: str) -> Sequence[str]:
    query = select(Subscription.id).where(Subscription.customer_id == customer_id, Subscription.ended_at.is_(None))
    return (await session.execute(query)).scalars().all()


async def list_subscriptions(
    session: AsyncSession, customer_id: str | None, after: str | None, limit: int
) -> Sequence[Subscription]:
    query = select(Subscription).order_by(Subscription.id).limit(limit)
    if customer_id:
        query = query.where(Subscription.customer_id == customer_id)
    if after:
        query = query.where(Subscription.id > after)
    return (await session.execute(query)).unique().scalars().all()


async def lock_due(session: AsyncSession, now: datetime, limit: int) -> Sequence[Subscription]:
    """Live subscriptions whose current period has ended, oldest first, locked; others' locked rows are skipped,
    so concurrent workers share the work and never close the same period twice."""
    query = (
        select(Subscription)
        .where(Subscription.ended_at.is_(None), Subscription.current_period_end <= now)
        .order_by(Subscription.current_period_end, Subscription.id)
        .limit(limit)
        .with_for_update(of=Subscription, skip_locked=True)
    )
    return (await session.execute(query)).unique().scalars().all()
