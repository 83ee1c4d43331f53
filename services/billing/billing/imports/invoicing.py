"""Writing one Stripe invoice (and its payment, with its refunds and disputes) into Tally: as a finalized invoice
numbered as in Stripe, whose later steps (uncollectible, paid, void), payment, refunds and disputes are played on the
customer's timeline at their moments.

An invoice still open in Stripe is Stripe's to collect: it gets a payment collection in status `external`, so Tally's
payment run never charges it too; running the import again brings its outcome over."""

from collections.abc import Mapping
from datetime import datetime
from functools import partial

from contracts.invoices import InvoiceFinalizedEvent
from contracts.payments import PaymentSucceededEvent
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id

from billing.customers.models import Customer
from billing.imports import history, repository
from billing.imports.context import CustomerData, Progress, Run, Timeline
from billing.imports.refunds import import_money_back, payment_intent
from billing.imports.stripe_objects import Invoice as StripeInvoice
from billing.invoices import service as invoices
from billing.invoices.models import Invoice, InvoiceLine
from billing.payment.collection import publish_payment, set_subscription_status
from billing.payment.models import Collection

FINALIZED, TRANSITION, PAYMENT = 2, 3, 4  # ranks on the timeline, after the customer (0) and subscriptions (1)
EXTERNAL = "external"  # a collection status: Stripe collects this invoice, not Tally


async def import_invoice(  # noqa: PLR0917 (the invoice and the customer's context)
    session: AsyncSession,
    invoice: StripeInvoice,
    customer: Customer,
    subscriptions: Mapping[str, str],
    data: CustomerData,
    run: Run,
    known: Mapping[tuple[str, str], str],
    progress: Progress,
    timeline: Timeline,
) -> None:
    steps = history.invoice_steps(invoice)
    if not steps:
        progress.skip("invoices", invoice.id, "a draft: it is imported once Stripe finalizes it")
        return
    if tally_id := known.get(("invoice", invoice.id)):
        row = await invoices.get_invoice(session, tally_id)
        rest = history.steps_after(steps, row.status)
        progress.count("invoices", "updated" if rest else "existing")
        if ("payment", invoice.id) in known:
            progress.count("payments", "existing")
    else:
        row = await _new_invoice(session, invoice, customer, subscriptions.get(invoice.subscription or ""), steps)
        await repository.map_object(session, "invoice", invoice.id, row.id, run.import_id)
        progress.count("invoices", "created")
        finalized = partial(invoices.announce, session, row, InvoiceFinalizedEvent, steps[0][1], status="finalized")
        timeline.add(steps[0][1], FINALIZED, finalized)
        rest = steps[1:]
    for action, at in rest or ():
        timeline.add(at, TRANSITION, partial(invoices.transition, session, row.id, action, at))
        if action != "pay":
            continue
        if row.subscription_id and ("subscription", invoice.subscription or "") in known:
            # Imported before, overdue in Tally, paid in Stripe since: active again, as Tally's own collection makes
            # it on a payment. (A subscription imported in this run has its status from Stripe.)
            reactivate = partial(set_subscription_status, session, row, "active", at, only_from=("past_due", "unpaid"))
            timeline.add(at, TRANSITION, reactivate)
        if invoice.amount_paid_minor > 0:
            await _payment(session, invoice, row, data, run, known, progress, timeline, at)
    if invoice.status == "paid" and invoice.amount_paid_minor > 0:
        await import_money_back(session, invoice, row, data, run, progress, timeline)


async def _payment(  # noqa: PLR0917 (the payment and where it goes)
    session: AsyncSession,
    invoice: StripeInvoice,
    row: Invoice,
    data: CustomerData,
    run: Run,
    known: Mapping[tuple[str, str], str],
    progress: Progress,
    timeline: Timeline,
    paid_at: datetime,
) -> None:
    """The payment that settled the invoice, announced right after it was paid (once: it is mapped too), and kept
    on the invoice's collection, as Tally's own payments are, so that its refunds and disputes find it."""
    if ("payment", invoice.id) in known:
        return
    intent = await payment_intent(session, invoice, row, data)
    collection = await session.get(Collection, row.id)
    if collection is None:
        collection = Collection(invoice_id=row.id)
        session.add(collection)
    collection.status, collection.attempts, collection.last_error = "paid", invoice.attempts, None
    collection.payment_intent_id = intent or collection.payment_intent_id
    announce = partial(
        publish_payment,
        session,
        PaymentSucceededEvent,
        row,
        paid_at,
        attempt=invoice.attempts,
        payment_intent_id=intent,
        amount_minor=invoice.amount_paid_minor,
    )
    timeline.add(paid_at, PAYMENT, announce)
    await repository.map_object(session, "payment", invoice.id, row.id, run.import_id)
    progress.count("payments", "created")


async def _new_invoice(
    session: AsyncSession,
    invoice: StripeInvoice,
    customer: Customer,
    subscription_id: str | None,
    steps: list[tuple[str, datetime]],
) -> Invoice:
    row = Invoice(
        id=new_id("inv"),
        number=await _number(session, invoice),
        customer_id=customer.id,
        subscription_id=subscription_id,
        status="finalized",  # the steps after it are played on the timeline
        currency=invoice.currency,
        period_start=invoice.period_start,
        period_end=invoice.period_end,
        tax_rate=invoice.tax_rate,
        subtotal_minor=invoice.subtotal_minor,
        credits_applied_minor=invoice.credits_applied_minor,
        tax_minor=invoice.tax_minor,
        total_minor=invoice.total_minor,
        created_at=invoice.created,
        finalized_at=steps[0][1],
    )
    row.lines = [
        InvoiceLine(
            invoice_id=row.id,
            position=position,
            kind=line.kind,
            description=line.description,
            quantity=line.quantity,
            amount_minor=line.amount_minor,
            period_start=line.period_start,
            period_end=line.period_end,
        )
        for position, line in enumerate(invoice.lines, start=1)
    ]
    session.add(row)
    if invoice.status == "open":
        session.add(Collection(invoice_id=row.id, status=EXTERNAL, attempts=0, last_error="collected by Stripe"))
    await session.flush()
    return row


async def _number(session: AsyncSession, invoice: StripeInvoice) -> str:
    """Stripe's number; with the Stripe id's end when a Tally invoice has that number already."""
    taken = select(Invoice.id).where(Invoice.number == invoice.number)
    if (await session.execute(taken)).first() is None:
        return invoice.number
    return f"{invoice.number[:30]}-{invoice.id[-9:]}"
