"""Credit packs bought outright: a one-off invoice for the pack, finalized at once and paid by PaymentIntent; the
units are granted when (and only when) it is paid, once, whatever reports the payment."""

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id

from billing.credits import service as credits
from billing.credits.models import CreditPurchase
from billing.credits.schemas import GrantIn, PurchaseIn
from billing.customers.models import Customer
from billing.invoices.builder import Line
from billing.invoices.closing import TICK, invoice_one_off
from billing.rating.periods import Period


async def begin(session: AsyncSession, customer: Customer, data: PurchaseIn, now: datetime) -> CreditPurchase:
    """Raises InvalidGrant before writing anything."""
    await credits.check_grant(session, GrantIn.model_validate(data.model_dump()), now)
    pack = Line(
        kind="credit_pack",
        description=data.description or f"{data.quantity} {data.credit_type} credits",
        meter=data.meter,
        group=None,
        quantity=data.quantity,
        amount_minor=credits.cost(data.quantity, data.unit_cost_minor),
        period=Period(now, now + TICK),
    )
    invoice = await invoice_one_off(session, customer, [pack], now)
    purchase = CreditPurchase(
        id=new_id("cpu"),
        customer_id=customer.id,
        invoice_id=invoice.id,
        terms=data.model_dump(mode="json"),
        status="awaiting_payment",
    )
    session.add(purchase)
    await session.flush()
    return purchase


async def paid(session: AsyncSession, invoice_id: str) -> None:
    """The pack's invoice is paid: grant its units, usable from the purchase (whose expiry was checked against it),
    unless the invoice is no purchase or its units were granted already."""
    purchase = await _awaiting(session, invoice_id)
    if purchase is not None:
        terms = purchase.terms | {"purchased_at": purchase.created_at.isoformat()}
        grant = await credits.create_grant(session, purchase.customer_id, GrantIn.model_validate(terms))
        purchase.status, purchase.grant_id = "paid", grant.id


async def declined(session: AsyncSession, invoice_id: str) -> None:
    purchase = await _awaiting(session, invoice_id)
    if purchase is not None:
        purchase.status = "declined"


async def _awaiting(session: AsyncSession, invoice_id: str) -> CreditPurchase | None:
    query = select(CreditPurchase).where(
        CreditPurchase.invoice_id == invoice_id, CreditPurchase.status == "awaiting_payment"
    )
    return (await session.execute(query.with_for_update())).scalar_one_or_none()
