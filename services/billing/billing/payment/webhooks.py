"""Stripe's webhooks: verified with the official SDK against each configured secret (several, for rotation), kept
once in the inbox by Stripe's event id, and handled by the worker. Handling re-reads the object from Stripe, so
deliveries out of order (or three times) end in the state Stripe is in, once."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
import stripe
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from billing.invoices import service as invoices
from billing.payment import collection as collections
from billing.payment.dunning import Policy
from billing.payment.models import Collection, StripeEvent
from billing.payment.stripe_api import StripeApi

TOLERANCE_S = 300
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
    if not event.type.startswith("payment_intent."):
        return "kept; nothing to do for this type"
    intent_id = event.payload.get("data", {}).get("object", {}).get("id")
    query = select(Collection).where(Collection.payment_intent_id == intent_id).with_for_update()
    collection = (await session.execute(query)).scalar_one_or_none()
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
    return f"payment intent is {status}; nothing to change"
