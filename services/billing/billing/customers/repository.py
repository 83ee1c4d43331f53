"""All SQL for customers."""

from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.customers.models import Customer


async def insert_customer(session: AsyncSession, values: dict[str, Any]) -> bool:
    """False when another customer has that external id."""
    statement = insert(Customer).values(values).on_conflict_do_nothing(index_elements=["external_id"])
    return (await session.execute(statement.returning(Customer.id))).scalar_one_or_none() is not None


async def customer_by_ref(session: AsyncSession, ref: str, *, for_update: bool = False) -> Customer | None:
    """By our `cus_` id or by the product's external id."""
    query = select(Customer).where(or_(Customer.id == ref, Customer.external_id == ref))
    if for_update:
        query = query.with_for_update()
    return (await session.execute(query.order_by(Customer.id != ref).limit(1))).scalar_one_or_none()


async def list_customers(
    session: AsyncSession, after: str | None, limit: int, search: str | None
) -> Sequence[Customer]:
    query = select(Customer).order_by(Customer.id).limit(limit)
    if after:
        query = query.where(Customer.id > after)
    if search:
        query = query.where(
            or_(
                Customer.name.icontains(search, autoescape=True),
                Customer.email.icontains(search, autoescape=True),
                Customer.external_id == search,
            )
        )
    return (await session.execute(query)).scalars().all()


async def customers_by_id(session: AsyncSession, ids: Sequence[str]) -> dict[str, Customer]:
    rows = (await session.execute(select(Customer).where(Customer.id.in_(ids)))).scalars().all()
    return {customer.id: customer for customer in rows}
