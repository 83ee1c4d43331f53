"""Invoice life cycle: draft -> finalized (numbered without gaps per year, immutable) -> paid / void /
uncollectible (and uncollectible -> paid / void). Every transition after the draft is announced."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from contracts.invoices import Invoice as InvoiceData
from contracts.invoices import (
    InvoiceFinalizedEvent,
    InvoiceMarkedUncollectibleEvent,
    InvoicePaidEvent,
    InvoiceVoidedEvent,
)
from contracts.invoices import InvoiceLine as LineData
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.pages import split_page

from billing.customers.service import get_customer
from billing.invoices import repository
from billing.invoices.models import Invoice, RejectedLateUsage
from billing.outgoing import publish

DRAFT_BATCH = 200
# action -> (statuses it applies to, the status it leads to, the event announcing it)
TRANSITIONS: dict[
    str, tuple[frozenset[str], str, type[InvoicePaidEvent | InvoiceVoidedEvent | InvoiceMarkedUncollectibleEvent]]
] = {
    "pay": (frozenset({"finalized", "uncollectible"}), "paid", InvoicePaidEvent),
    "void": (frozenset({"finalized", "uncollectible"}), "void", InvoiceVoidedEvent),
    "mark_uncollectible": (frozenset({"finalized"}), "uncollectible", InvoiceMarkedUncollectibleEvent),
}
_STAMPS = {"paid": "paid_at", "void": "voided_at", "uncollectible": "marked_uncollectible_at"}


class UnknownInvoice(Exception):
    pass


class WrongStatus(Exception):
    pass


async def get_invoice(session: AsyncSession, invoice_id: str, *, for_update: bool = False) -> Invoice:
    invoice = await repository.invoice_by_id(session, invoice_id, for_update=for_update)
    if invoice is None:
        raise UnknownInvoice(invoice_id)
    return invoice


async def list_invoices(
    session: AsyncSession, customer_ref: str | None, status: str | None, after: str | None, limit: int
) -> tuple[Sequence[Invoice], str | None]:
    customer_id = (await get_customer(session, customer_ref)).id if customer_ref else None
    rows = await repository.list_invoices(session, customer_id, status, after, limit + 1)
    return split_page(rows, limit, lambda invoice: invoice.id)


async def rejected_late_usage(session: AsyncSession, customer_ref: str, limit: int) -> Sequence[RejectedLateUsage]:
    customer = await get_customer(session, customer_ref)
    return await repository.rejected_late_usage(session, customer.id, limit)


async def finalize(session: AsyncSession, invoice: Invoice, now: datetime) -> Invoice:
    """Numbers the draft (YYYY-NNNNNN, by the year it is finalized in) and freezes it."""
    if invoice.status != "draft":
        raise WrongStatus(f"only a draft can be finalized; this invoice is {invoice.status}")
    number = await repository.next_number(session, now.year)
    invoice.number = f"{now.year}-{number:06d}"
    invoice.status = "finalized"
    invoice.finalized_at = now
    await session.flush()
    await announce(session, invoice, InvoiceFinalizedEvent, now)
    return invoice


async def transition(session: AsyncSession, invoice_id: str, action: str, now: datetime) -> Invoice:
    """`finalize`, or one of TRANSITIONS; raises WrongStatus when the invoice's status does not allow it."""
    invoice = await get_invoice(session, invoice_id, for_update=True)
    if action == "finalize":
        return await finalize(session, invoice, now)
    allowed, status, event_cls = TRANSITIONS[action]
    if invoice.status not in allowed:
        raise WrongStatus(f"a {invoice.status} invoice cannot be moved to {status}")
    invoice.status = status
    setattr(invoice, _STAMPS[status], now)
    await session.flush()
    await announce(session, invoice, event_cls, now)
    return invoice


async def finalize_drafts(sessions: async_sessionmaker[AsyncSession], now: datetime, draft_for: timedelta) -> int:
    """Finalizes every draft older than `draft_for`, a batch per transaction; returns how many."""
    finalized = 0
    while True:
        async with sessions() as session, session.begin():
            drafts = await repository.lock_drafts_due(session, now - draft_for, DRAFT_BATCH)
            for draft in drafts:
                await finalize(session, draft, now)
        if not drafts:
            return finalized
        finalized += len(drafts)


async def announce(
    session: AsyncSession,
    invoice: Invoice,
    event_cls: type[InvoiceFinalizedEvent | InvoicePaidEvent | InvoiceVoidedEvent | InvoiceMarkedUncollectibleEvent],
    now: datetime,
    status: str | None = None,
) -> None:
    """The invoice as it is, or as it was at `now` (`status`: an import replaying its history)."""
    assert invoice.number is not None and invoice.finalized_at is not None
    data = InvoiceData(
        invoice_id=invoice.id,
        number=invoice.number,
        customer_id=invoice.customer_id,
        subscription_id=invoice.subscription_id,
        status=status or invoice.status,
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        subtotal_minor=invoice.subtotal_minor,
        credits_applied_minor=invoice.credits_applied_minor,
        tax_minor=invoice.tax_minor,
        total_minor=invoice.total_minor,
        lines=[
            LineData(
                kind=line.kind,
                meter=line.meter,
                quantity=None if line.quantity is None else format(line.quantity, "f"),
                amount_minor=line.amount_minor,
                period_start=line.period_start,
                period_end=line.period_end,
            )
            for line in invoice.lines
        ],
        finalized_at=invoice.finalized_at,
        changed_at=now,
    )
    await publish(session, event_cls, data, key=invoice.customer_id, time=now)
