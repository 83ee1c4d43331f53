"""The refunds and disputes of an imported paid invoice's payment, recorded as the webhook path records them (the
same table, the same `tally.payment.refunded` / `disputed` events at Stripe's moments), on the customer's timeline.
One recorded before (by an earlier run, or by a webhook) is left as it is, so a run after a new refund brings over
that refund only."""

from functools import partial

from sqlalchemy.ext.asyncio import AsyncSession

from billing.imports import repository
from billing.imports.context import CustomerData, Progress, Run, Timeline
from billing.imports.stripe_objects import Invoice as StripeInvoice
from billing.invoices.models import Invoice
from billing.payment import reversals
from billing.payment.models import Collection

MONEY_BACK = 5  # the rank on the timeline: after the payment (4) at the same moment


async def import_money_back(  # noqa: PLR0917 (the invoice and the customer's context)
    session: AsyncSession,
    invoice: StripeInvoice,
    row: Invoice,
    data: CustomerData,
    run: Run,
    progress: Progress,
    timeline: Timeline,
) -> None:
    if not run.money_back:  # an account without refunds or disputes: no payment to look up
        return
    intent = await payment_intent(session, invoice, row, data)
    facts = run.money_back.get(intent or "", [])
    if not facts:
        return
    there = await reversals.recorded(session, (fact.stripe_id for fact in facts))
    for fact in facts:
        kind = f"{fact.kind}s"
        if fact.stripe_id in there:
            progress.count(kind, "existing")
            continue
        record = partial(reversals.record, session, row, fact, attempt=invoice.attempts, payment_intent_id=intent)
        timeline.add(fact.at, MONEY_BACK, record)
        await repository.map_object(session, fact.kind, fact.stripe_id, row.id, run.import_id)
        progress.count(kind, "created")


async def payment_intent(session: AsyncSession, invoice: StripeInvoice, row: Invoice, data: CustomerData) -> str | None:
    """The payment intent that paid the invoice: on the invoice (older API versions), read in this run, or kept on
    its collection by the run that imported the payment."""
    if invoice.payment_on_invoice:
        return invoice.payment_intent
    if invoice.id in data.payment_intents:
        return data.payment_intents[invoice.id]
    collection = await session.get(Collection, row.id)
    return None if collection is None else collection.payment_intent_id
