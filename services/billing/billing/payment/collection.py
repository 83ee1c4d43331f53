"""Collecting finalized invoices through Stripe, with dunning.

Each attempt (a Stripe invoice paid, or a PaymentIntent: see charging.py) has an idempotency key that names the
invoice and the attempt: an attempt that could not reach Stripe is sent again with the same key, so a charge that did
go through is never made twice. A declined
payment makes the subscription past_due and is retried on the policy's days; success makes it active again; when
the grace period ends unpaid, the invoice is uncollectible and the subscription canceled (or unpaid)."""

from collections.abc import Sequence
from datetime import datetime, timedelta

from contracts.envelope import CloudEvent
from contracts.payments import Payment, PaymentFailedEvent, PaymentSucceededEvent
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.credits import purchases
from billing.invoices import service as invoices
from billing.invoices.models import Invoice
from billing.outgoing import publish
from billing.payment import charging
from billing.payment.dunning import Policy
from billing.payment.models import Collection, StripeCustomer
from billing.payment.stripe_api import PaymentDeclined, StripeApi, StripeUnavailable
from billing.subscriptions import repository as subscriptions
from billing.subscriptions.events import announce, terms_of

BATCH = 20
UNREACHABLE_RETRY = timedelta(minutes=5)
NO_METHOD_RETRY = timedelta(hours=1)

# Every finalized invoice with something to pay gets a collection, due now.
_OPEN_COLLECTIONS = text("""
INSERT INTO payment_collections (invoice_id, status, attempts, next_attempt_at)
SELECT i.id, 'due', 0, :now FROM invoices i
WHERE i.status = 'finalized' AND i.total_minor > 0
  AND NOT EXISTS (SELECT 1 FROM payment_collections c WHERE c.invoice_id = i.id)
ON CONFLICT (invoice_id) DO NOTHING
""")


async def run(sessions: async_sessionmaker[AsyncSession], api: StripeApi, policy: Policy, now: datetime) -> int:
    """Opens collections for new invoices, makes every attempt due, ends the dunning of those out of grace."""
    async with sessions() as session, session.begin():
        await session.execute(_OPEN_COLLECTIONS, {"now": now})
        await end_grace(session, policy, now)
    async with sessions() as session, session.begin():
        await close_in_stripe(session, api)
    attempted = 0
    while True:
        async with sessions() as session, session.begin():
            count = await attempt_due(session, api, policy, now)
        attempted += count
        if count < BATCH:
            return attempted


async def attempt_due(session: AsyncSession, api: StripeApi, policy: Policy, now: datetime) -> int:
    query = (
        select(Collection)
        .where(Collection.status == "due", Collection.next_attempt_at <= now)
        .order_by(Collection.next_attempt_at, Collection.invoice_id)
        .limit(BATCH)
        .with_for_update(skip_locked=True)
    )
    due = (await session.execute(query)).scalars().all()
    for collection in due:
        await _attempt(session, api, policy, collection, now)
    return len(due)


async def attempt_now(session: AsyncSession, api: StripeApi, policy: Policy, invoice_id: str, now: datetime) -> None:
    """The invoice's due attempt, now (a purchase paid while its buyer waits); nothing if another process has it."""
    query = select(Collection).where(Collection.invoice_id == invoice_id, Collection.status == "due")
    found = (await session.execute(query.with_for_update(skip_locked=True))).scalar_one_or_none()
    if found is not None:
        await _attempt(session, api, policy, found, now)


async def _attempt(
    session: AsyncSession, api: StripeApi, policy: Policy, collection: Collection, now: datetime
) -> None:
    invoice = await invoices.get_invoice(session, collection.invoice_id)
    if invoice.status not in ("finalized", "uncollectible"):  # paid or voided meanwhile, e.g. by hand
        collection.status, collection.next_attempt_at = "closed", None
        return
    payer = await session.get(StripeCustomer, invoice.customer_id)
    if payer is None or payer.payment_method_id is None:
        collection.last_error, collection.next_attempt_at = "no payment method", now + NO_METHOD_RETRY
        return
    attempt = collection.attempts + 1
    try:
        charge = await charging.charge(api, policy, payer, invoice, collection, attempt)
    except StripeUnavailable as exc:  # the same attempt (same idempotency key) again later
        collection.last_error, collection.next_attempt_at = str(exc), now + UNREACHABLE_RETRY
        return
    except PaymentDeclined as exc:
        collection.attempts = attempt
        await failed(session, policy, collection, invoice, str(exc), now)
        return
    collection.attempts = attempt
    collection.payment_intent_id = charge.payment_intent_id or collection.payment_intent_id
    if charge.status == "succeeded":
        await succeeded(session, collection, invoice, now)
    else:  # processing, or the customer must act: the webhook tells how it ends
        collection.status, collection.next_attempt_at = "pending", None


async def succeeded(session: AsyncSession, collection: Collection, invoice: Invoice, now: datetime) -> None:
    """Once: a second report of the same payment (a webhook after the answer) changes nothing."""
    if collection.status == "paid":
        return
    collection.status, collection.next_attempt_at, collection.last_error = "paid", None, None
    if collection.stripe_invoice_id is not None:
        collection.stripe_invoice_status = "paid"
    if invoice.status in ("finalized", "uncollectible"):
        await invoices.transition(session, invoice.id, "pay", now)
    await purchases.paid(session, invoice.id)
    await set_subscription_status(session, invoice, "active", now, only_from=("past_due", "unpaid"))
    await announce_payment(session, PaymentSucceededEvent, collection, invoice, now)


async def failed(  # noqa: PLR0917 (the failure and its context)
    session: AsyncSession, policy: Policy, collection: Collection, invoice: Invoice, reason: str, now: datetime
) -> None:
    """`collection.attempts` counts this attempt already. A one-off purchase is not dunned: declined, its invoice is
    void and the customer buys again."""
    collection.first_failed_at = collection.first_failed_at or now
    collection.last_error = reason
    if invoice.subscription_id is None:
        collection.status, collection.next_attempt_at = "closed", None
        await invoices.transition(session, invoice.id, "void", now)
        await purchases.declined(session, invoice.id)
    else:
        collection.next_attempt_at = policy.next_attempt(collection.first_failed_at, collection.attempts)
        collection.status = "due" if collection.next_attempt_at else "failed"
    await set_subscription_status(session, invoice, "past_due", now, only_from=("active",))
    await announce_payment(session, PaymentFailedEvent, collection, invoice, now, reason)


async def end_grace(session: AsyncSession, policy: Policy, now: datetime) -> None:
    """Invoices still unpaid when the grace period ends: uncollectible, and their subscription canceled or unpaid."""
    query = (
        select(Collection)
        .where(
            Collection.status.in_(("due", "failed")),
            Collection.first_failed_at <= now - timedelta(days=policy.grace_days),
        )
        .with_for_update(skip_locked=True)
    )
    for collection in (await session.execute(query)).scalars().all():
        collection.status, collection.next_attempt_at = "uncollectible", None
        invoice = await invoices.transition(session, collection.invoice_id, "mark_uncollectible", now)
        await set_subscription_status(session, invoice, policy.final_status, now, only_from=("past_due",))


async def close_in_stripe(session: AsyncSession, api: StripeApi) -> None:
    """Stripe invoices still open for ours that are now void or uncollectible (by an admin, or at the end of the
    grace period) are made so in Stripe too, so nobody pays them there. One that Stripe refuses to close (paid there
    meanwhile: its webhook tells) is tried again at the next run."""
    query = (
        select(Collection, Invoice.status)
        .join(Invoice, Invoice.id == Collection.invoice_id)
        .where(
            Collection.stripe_invoice_status == "open",
            Invoice.status.in_(("void", "uncollectible")),
        )
        .with_for_update(of=Collection, skip_locked=True)
        .limit(BATCH)
    )
    for collection, status in (await session.execute(query)).all():
        assert collection.stripe_invoice_id is not None
        try:
            await api.close_invoice(collection.stripe_invoice_id, status)
        except StripeUnavailable as exc:
            collection.last_error = str(exc)
            continue
        collection.stripe_invoice_status = status


async def retry_now(session: AsyncSession, invoice_id: str, now: datetime) -> Collection | None:
    """An admin's "retry now": the next attempt is due at once (None when the invoice has no collection)."""
    collection = await session.get(Collection, invoice_id, with_for_update=True)
    if collection is not None and collection.status in ("due", "failed"):
        collection.status, collection.next_attempt_at = "due", now
    return collection


async def set_subscription_status(
    session: AsyncSession, invoice: Invoice, status: str, now: datetime, *, only_from: Sequence[str]
) -> None:
    if invoice.subscription_id is None:
        return
    subscription = await subscriptions.subscription_by_id(session, invoice.subscription_id, for_update=True)
    if subscription is None or subscription.status not in only_from or subscription.ended_at is not None:
        return
    previous = terms_of(subscription.plan, subscription.status)
    subscription.status, subscription.updated_at = status, now
    change = "status_changed"
    if status == "canceled":
        subscription.ended_at, subscription.canceled_at, change = now, now, "canceled"
    await session.flush()
    await announce(session, subscription, change, effective_at=now, previous=previous)  # type: ignore[arg-type]


async def announce_payment(  # noqa: PLR0917 (the event's parts)
    session: AsyncSession,
    event_cls: type[CloudEvent[Payment]],
    collection: Collection,
    invoice: Invoice,
    now: datetime,
    reason: str | None = None,
    *,
    amount_minor: int | None = None,
) -> None:
    await publish_payment(
        session,
        event_cls,
        invoice,
        now,
        attempt=collection.attempts,
        payment_intent_id=collection.payment_intent_id,
        reason=reason,
        next_attempt_at=collection.next_attempt_at,
        amount_minor=amount_minor,
    )


async def publish_payment(
    session: AsyncSession,
    event_cls: type[CloudEvent[Payment]],
    invoice: Invoice,
    now: datetime,
    *,
    attempt: int,
    payment_intent_id: str | None,
    reason: str | None = None,
    next_attempt_at: datetime | None = None,
    amount_minor: int | None = None,
) -> None:
    data = Payment(
        invoice_id=invoice.id,
        customer_id=invoice.customer_id,
        subscription_id=invoice.subscription_id,
        amount_minor=invoice.total_minor if amount_minor is None else amount_minor,
        currency=invoice.currency,
        attempt=max(attempt, 1),
        payment_intent_id=payment_intent_id,
        reason=reason,
        next_attempt_at=next_attempt_at,
        occurred_at=now,
    )
    await publish(session, event_cls, data, key=invoice.customer_id, time=now)
