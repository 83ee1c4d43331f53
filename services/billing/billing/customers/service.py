"""Customer use cases. The caller owns the transaction."""

from collections.abc import Sequence
from datetime import UTC, datetime

from contracts.customers import Customer as CustomerData
from contracts.customers import CustomerCreatedEvent, CustomerUpdatedEvent
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id
from tally_runtime.pages import split_page

from billing.customers import repository
from billing.customers.models import Customer
from billing.customers.schemas import CustomerIn, CustomerUpdate
from billing.outgoing import publish


class UnknownCustomer(Exception):
    pass


class ExternalIdTaken(Exception):
    pass


async def get_customer(session: AsyncSession, ref: str, *, for_update: bool = False) -> Customer:
    """By our `cus_` id or the product's external id; raises UnknownCustomer."""
    customer = await repository.customer_by_ref(session, ref, for_update=for_update)
    if customer is None:
        raise UnknownCustomer(ref)
    return customer


async def create_customer(session: AsyncSession, data: CustomerIn, now: datetime | None = None) -> Customer:
    """`now`: when the customer came (default the database's now), for a history written after the fact."""
    values = {name: getattr(data, name) for name in CustomerIn.model_fields if name != "metadata"}
    values |= {"id": new_id("cus"), "metadata_": data.metadata}
    if now is not None:
        values |= {"created_at": now, "updated_at": now}
    if not await repository.insert_customer(session, values):
        raise ExternalIdTaken(data.external_id)
    customer = await get_customer(session, values["id"])
    await announce(session, customer, CustomerCreatedEvent)
    return customer


async def update_customer(session: AsyncSession, ref: str, data: CustomerUpdate) -> Customer:
    customer = await get_customer(session, ref, for_update=True)
    for name in data.model_fields_set:
        setattr(customer, "metadata_" if name == "metadata" else name, getattr(data, name))
    if data.model_fields_set:
        customer.updated_at = datetime.now(UTC)
        await session.flush()
        await announce(session, customer, CustomerUpdatedEvent)
    return customer


async def list_customers(
    session: AsyncSession, after: str | None, limit: int, search: str | None
) -> tuple[Sequence[Customer], str | None]:
    rows = await repository.list_customers(session, after, limit + 1, search)
    return split_page(rows, limit, lambda customer: customer.id)


async def announce(
    session: AsyncSession, customer: Customer, event_cls: type[CustomerCreatedEvent] | type[CustomerUpdatedEvent]
) -> None:
    data = CustomerData(
        customer_id=customer.id,
        external_id=customer.external_id,
        name=customer.name,
        email=customer.email,
        currency=customer.currency,
        tax_rate=format(customer.tax_rate, "f"),
        metadata=customer.metadata_,
        updated_at=customer.updated_at,
    )
    await publish(session, event_cls, data, key=customer.id, time=customer.updated_at)
