"""All SQL for credits."""

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from billing.credits.models import BalanceTransaction, CreditConsumption, CreditGrant
from billing.customers.models import Customer


class BalanceRow(NamedTuple):
    credit_type: str
    meter: str
    remaining: Decimal
    next_expiry: datetime | None


def _live_at(at: datetime) -> tuple[ColumnElement[bool], ColumnElement[bool]]:
    return (
        CreditGrant.purchased_at <= at,
        or_(CreditGrant.expires_at.is_(None), CreditGrant.expires_at > at),
    )


async def add(session: AsyncSession, row: CreditGrant | CreditConsumption | BalanceTransaction) -> None:
    session.add(row)
    await session.flush()


async def spendable_grants(
    session: AsyncSession, customer_id: str, meter: str, at: datetime, *, lock: bool
) -> Sequence[CreditGrant]:
    """The customer's grants on the meter live at `at` with units left, locked FOR UPDATE when `lock`: in spending
    order, so two spenders lock them in the same order, and a waiter re-reads `remaining` once the other commits."""
    query = (
        select(CreditGrant)
        .where(CreditGrant.customer_id == customer_id, CreditGrant.meter == meter, CreditGrant.remaining > 0)
        .where(*_live_at(at))
        .order_by(CreditGrant.expires_at.asc().nulls_last(), CreditGrant.purchased_at, CreditGrant.id)
        .execution_options(populate_existing=True)
    )
    if lock:
        query = query.with_for_update()
    return (await session.execute(query)).scalars().all()


async def units_held(session: AsyncSession, customer_ids: Sequence[str], at: datetime) -> set[tuple[str, str]]:
    """(customer, meter) pairs with units left on a grant live at `at`, among these customers."""
    query = (
        select(CreditGrant.customer_id, CreditGrant.meter)
        .where(CreditGrant.customer_id.in_(customer_ids), CreditGrant.remaining > 0, *_live_at(at))
        .distinct()
    )
    return {(customer_id, meter) for customer_id, meter in (await session.execute(query)).all()}


async def balances_held(session: AsyncSession, customer_ids: Sequence[str]) -> set[str]:
    """The customers, among these, whose monetary balance is above zero."""
    query = (
        select(BalanceTransaction.customer_id)
        .where(BalanceTransaction.customer_id.in_(customer_ids))
        .group_by(BalanceTransaction.customer_id)
        .having(func.sum(BalanceTransaction.amount_minor) > 0)
    )
    return set((await session.execute(query)).scalars().all())


async def customer_for_balance(session: AsyncSession, customer_id: str, *, lock: bool) -> Customer | None:
    """The customer by our id; with `lock`, its row locked until the transaction ends, which serializes every
    change of its balance. FOR NO KEY UPDATE, so rows that only refer to the customer are not held up."""
    query = select(Customer).where(Customer.id == customer_id)
    if lock:
        query = query.with_for_update(key_share=True)
    return (await session.execute(query)).scalar_one_or_none()


async def balance_of(session: AsyncSession, customer_id: str) -> int:
    query = select(func.coalesce(func.sum(BalanceTransaction.amount_minor), 0)).where(
        BalanceTransaction.customer_id == customer_id
    )
    return int((await session.execute(query)).scalar_one())


async def live_balances(session: AsyncSession, customer_id: str, at: datetime) -> list[BalanceRow]:
    """Units left per (credit type, meter) on the grants live at `at`, and the earliest expiry among those with
    units left."""
    query = (
        select(
            CreditGrant.credit_type,
            CreditGrant.meter,
            func.sum(CreditGrant.remaining),
            func.min(CreditGrant.expires_at).filter(CreditGrant.remaining > 0),
        )
        .where(CreditGrant.customer_id == customer_id, *_live_at(at))
        .group_by(CreditGrant.credit_type, CreditGrant.meter)
        .order_by(CreditGrant.credit_type, CreditGrant.meter)
    )
    return [BalanceRow(*row) for row in (await session.execute(query)).all()]


async def latest_grants(session: AsyncSession, customer_id: str, limit: int) -> Sequence[CreditGrant]:
    query = select(CreditGrant).where(CreditGrant.customer_id == customer_id).order_by(CreditGrant.id.desc())
    return (await session.execute(query.limit(limit))).scalars().all()


async def latest_consumption(session: AsyncSession, customer_id: str, limit: int) -> Sequence[CreditConsumption]:
    query = (
        select(CreditConsumption)
        .where(CreditConsumption.customer_id == customer_id)
        .order_by(CreditConsumption.id.desc())
    )
    return (await session.execute(query.limit(limit))).scalars().all()


async def latest_balance_transactions(
    session: AsyncSession, customer_id: str, limit: int
) -> Sequence[BalanceTransaction]:
    query = (
        select(BalanceTransaction)
        .where(BalanceTransaction.customer_id == customer_id)
        .order_by(BalanceTransaction.id.desc())
    )
    return (await session.execute(query.limit(limit))).scalars().all()
