"""Stripe's webhooks: verified with the official SDK against each configured secret (several, for rotation), kept
once in the inbox by Stripe's event id, and handled by the worker. Handling re-reads the object from Stripe, so
deliveries out of order (or three times) end in the state Stripe is in, once."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import stripe
from contracts.payments import PaymentActionRequiredEvent, PaymentFailedEvent
from contracts.subscriptions import Change
from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.customers import service as customers
from billing.customers.schemas import CustomerUpdate
from billing.imports import repository as imported
from billing.invoices import service as invoices
from billing.invoices.models import Invoice
from billing.payment import collection as collections
from billing.payment import reversals
from billing.payment.dunning import Policy
from billing.payment.models import Collection, StripeCustomer, StripeEvent
from billing.payment.money_back import dispute_of, refund_of
from billing.payment.stripe_api import StripeApi, StripeRefused
from billing.subscriptions import repository as subscription_repository
from billing.subscriptions.events import announce, terms_of

TOLERANCE_S = 300
MAX_BODY_BYTES = 512 * 1024  # Stripe's largest events are a few tens of KiB
INVOICE_EVENTS = ("invoice.paid", "invoice.payment_failed", "invoice.payment_action_required")
BATCH = 50


class InvalidSignature(Exception):
    pass


def verify(payload: bytes, signature: str | None, secrets: Sequence[str]) -> dict[str, Any]:
    """The event, if one of the secrets signed exactly these bytes within the last five minutes."""
    for secret in secrets:
        try:
            stripe.WebhookSignature.verify_header(payload.decode(), signature or "", secret, TOLERANCE_S)
        except stripe.SignatureVerificationError:
            continue
        event: dict[str, Any] = orjson.loads(payload)
        if (
            not isinstance(event, dict)
            or not isinstance(event.get("id"), str)
            or not isinstance(event.get("type"), str)
        ):
            raise InvalidSignature("the signed body is not a Stripe event")
        return event
    raise InvalidSignature("no configured secret signed this body (or its timestamp is too old)")


async def keep(session: AsyncSession, event: dict[str, Any]) -> bool:
    """True the first time this event id arrives."""
    statement = insert(StripeEvent).values(id=event["id"], type=event["type"], payload=event).on_conflict_do_nothing()
    return (await session.execute(statement.returning(StripeEvent.id))).scalar_one_or_none() is not None


async def handle_inbox(
    sessions: async_sessionmaker[AsyncSession], api: StripeApi, policy: Policy, now: datetime
) -> int:
    handled = 0
    while True:
        async with sessions() as session, session.begin():
            query = (
                select(StripeEvent)
                .where(StripeEvent.handled_at.is_(None))
                .order_by(StripeEvent.received_at, StripeEvent.id)
                .limit(BATCH)
                .with_for_update(skip_locked=True)
            )
            events = (await session.execute(query)).scalars().all()
            for event in events:
                event.outcome = await _handle(session, api, policy, event, now)
                event.handled_at = now
        handled += len(events)
        if len(events) < BATCH:
            return handled


async def _handle(session: AsyncSession, api: StripeApi, policy: Policy, event: StripeEvent, now: datetime) -> str:
    thing: dict[str, Any] = event.payload.get("data", {}).get("object", {})
    if event.type.startswith("payment_intent."):
        return await _payment_intent(session, api, policy, str(thing.get("id")), now)
    if event.type in ("charge.refunded", "charge.dispute.created"):
        return await _money_back(session, api, event.type, thing, now)
    if event.type == "customer.updated":
        return await _customer_updated(session, thing)
    if event.type in INVOICE_EVENTS:
        return await _stripe_invoice(session, event.type, thing, now)
    if event.type in ("customer.subscription.updated", "customer.subscription.deleted"):
        return await _stripe_subscription(session, api, str(thing.get("id")), now)
    return "kept; nothing to do for this type"


async def _stripe_subscription(session: AsyncSession, api: StripeApi, stripe_id: str, now: datetime) -> str:
    """An imported subscription that Stripe still bills (Tally takes over at the end of the period it was imported
    in): a cancellation or a change of status there is followed here, as Stripe has it now, whatever the order of
    the events. Once Tally has invoiced a period of it, Stripe's changes are not followed: cancelling it in Stripe is
    how an operator ends Stripe's billing at the takeover."""
    subscription_id = (await imported.mapped(session, [("subscription", stripe_id)])).get(("subscription", stripe_id))
    if subscription_id is None:
        return "not a subscription of ours"
    subscription = await subscription_repository.subscription_by_id(session, subscription_id, for_update=True)
    if subscription is None or subscription.ended_at is not None:
        return "ended already"
    billed = select(Invoice.id).where(Invoice.subscription_id == subscription.id, Invoice.boundary.is_not(None))
    if (await session.execute(billed.limit(1))).first():
        return "Tally bills this subscription now; Stripe's change is not followed"
    status, at_period_end = await api.subscription_state(stripe_id)
    previous = terms_of(subscription.plan, subscription.status)
    change: Change
    if status in ("canceled", "incomplete_expired"):
        subscription.status, subscription.ended_at, change = "canceled", now, "canceled"
        subscription.canceled_at = subscription.canceled_at or now
    elif at_period_end and not subscription.cancel_at_period_end:
        subscription.cancel_at_period_end, subscription.canceled_at, change = True, now, "cancel_scheduled"
    elif status in ("active", "past_due", "unpaid", "trialing") and status != subscription.status:
        subscription.status, change = status, "status_changed"
    else:
        return f"as Stripe has it ({status}); nothing to change"
    subscription.updated_at = now
    await session.flush()
    await announce(session, subscription, change, effective_at=now, previous=previous)
    return change


async def _stripe_invoice(session: AsyncSession, kind: str, thing: dict[str, Any], now: datetime) -> str:
    """An invoice Stripe collects (one imported while still open in Stripe), or the Stripe invoice of ours that
    Tally pays (its metadata names ours): a payment that completes later (after 3-D Secure, a bank transfer) is
    paid here; its failures were seen by the attempt itself. Paid is final, so a failure reported after it (out of
    order) changes nothing."""
    invoice_id = (thing.get("metadata") or {}).get("tally_invoice_id")
    if not invoice_id:
        found = await imported.mapped(session, [("invoice", str(thing.get("id")))])
        invoice_id = found.get(("invoice", str(thing.get("id"))))
    if not invoice_id:
        return "not an invoice of ours"
    invoice = await invoices.get_invoice(session, invoice_id, for_update=True)
    if invoice.status not in ("finalized", "uncollectible"):
        return f"the invoice is {invoice.status} already"
    collection = await session.get(Collection, invoice.id, with_for_update=True)
    if collection is None:
        collection = Collection(invoice_id=invoice.id, status="external", attempts=0)
        session.add(collection)
    elif collection.status != "external" and kind != "invoice.paid":
        return "Tally's own attempt: handled when it was made"
    collection.attempts = max(collection.attempts, int(thing.get("attempt_count") or 1))
    collection.payment_intent_id = thing.get("payment_intent") or collection.payment_intent_id
    if kind == "invoice.paid":
        await collections.succeeded(session, collection, invoice, now)
        return "paid"
    if kind == "invoice.payment_failed":
        await collections.set_subscription_status(session, invoice, "past_due", now, only_from=("active",))
        await collections.announce_payment(session, PaymentFailedEvent, collection, invoice, now, "payment_failed")
        return "failed (Stripe retries it)"
    await collections.announce_payment(session, PaymentActionRequiredEvent, collection, invoice, now, "action_required")
    return "the customer must act"


async def _payment_intent(session: AsyncSession, api: StripeApi, policy: Policy, intent_id: str, now: datetime) -> str:
    collection = await _collection_of(session, intent_id)
    if collection is None:
        return "no collection of ours made this payment intent"
    status = await api.payment_intent_status(intent_id)  # now, whatever order the events came in
    invoice = await invoices.get_invoice(session, collection.invoice_id)
    if status == "succeeded":
        await collections.succeeded(session, collection, invoice, now)
        return "paid"
    if status in ("requires_payment_method", "canceled") and collection.status == "pending":
        await collections.failed(session, policy, collection, invoice, f"payment intent {status}", now)
        return "failed"
    if status == "requires_action" and collection.status == "pending":
        await collections.announce_payment(
            session, PaymentActionRequiredEvent, collection, invoice, now, "requires_action"
        )
        return "the customer must act"
    return f"payment intent is {status}; nothing to change"


async def _money_back(session: AsyncSession, api: StripeApi, kind: str, thing: dict[str, Any], now: datetime) -> str:
    """A refund or a dispute of one of our payments: each refund of the charge (re-read from Stripe: the event
    carries the charge, whose `amount_refunded` is the running total) and the dispute are recorded once by their
    Stripe ids, at their Stripe moments, so deliveries repeated or out of order announce each once."""
    collection = await _collection_of(session, str(thing.get("payment_intent")))
    if collection is None:
        return "not a payment of ours"
    invoice = await invoices.get_invoice(session, collection.invoice_id)
    if kind == "charge.refunded":
        try:
            refunds = await api.refunds_of(str(thing.get("id")))
        except StripeRefused as exc:  # not a charge Stripe knows: nothing to record, the inbox moves on
            return f"the charge's refunds could not be read: {exc}"[:200]
        facts = [fact for raw in refunds if (fact := refund_of(raw))]
    else:
        facts = [dispute_of(thing, now)]
    new = [
        fact
        for fact in facts
        if await reversals.record(
            session, invoice, fact, attempt=collection.attempts, payment_intent_id=collection.payment_intent_id
        )
    ]
    if not new:
        return "nothing new to record"
    return ", ".join(f"{fact.kind} {fact.stripe_id}: {fact.amount_minor}" for fact in new)[:200]


async def _customer_updated(session: AsyncSession, thing: dict[str, Any]) -> str:
    """The customer changed their details or default payment method in Stripe (e.g. in the customer portal): a
    payer of ours (made here, or imported) follows. Stripe keeps any string as an email; an invalid one is left."""
    payer = (
        await session.execute(select(StripeCustomer).where(StripeCustomer.stripe_customer_id == thing.get("id")))
    ).scalar_one_or_none()
    if payer is None:
        return "not a customer of ours"
    changed = []
    method = (thing.get("invoice_settings") or {}).get("default_payment_method")
    if isinstance(method, str) and method != payer.payment_method_id:
        payer.payment_method_id = method
        changed.append("default payment method")
    customer = await customers.get_customer(session, payer.customer_id, for_update=True)
    details = {
        name: value
        for name, value in (("name", thing.get("name")), ("email", thing.get("email")))
        if isinstance(value, str) and value and value != getattr(customer, name)
    }
    try:
        update = CustomerUpdate.model_validate(details)
    except ValidationError:
        update = CustomerUpdate.model_validate({k: v for k, v in details.items() if k != "email"})
    if update.model_fields_set:
        in_step = payer.details_pushed_at is not None and payer.details_pushed_at >= customer.updated_at
        await customers.update_customer(session, customer.id, update)
        if in_step:  # Stripe has what it sent us; an edit of ours not pushed yet still goes
            payer.details_pushed_at = customer.updated_at
        changed += sorted(update.model_fields_set)
    return f"updated: {', '.join(changed)}" if changed else "nothing to change"


async def _collection_of(session: AsyncSession, intent_id: str) -> Collection | None:
    query = select(Collection).where(Collection.payment_intent_id == intent_id).with_for_update()
    return (await session.execute(query)).scalar_one_or_none()
