import logging
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_runtime.bodies import BodyTooLarge, read_capped
from tally_runtime.problems import Problem

from billing.config import BillingSettings
from billing.credits import purchases
from billing.credits.api import invalid_grant
from billing.credits.models import CreditPurchase
from billing.credits.schemas import PurchaseIn, PurchaseOut
from billing.credits.service import InvalidGrant
from billing.customers.api import unknown_customer
from billing.customers.models import Customer
from billing.customers.service import UnknownCustomer, get_customer
from billing.db import SessionDep
from billing.payment import collection, webhooks
from billing.payment.models import Collection, StripeCustomer
from billing.payment.stripe_api import PaymentDeclined, StripeApi, StripeRefused, StripeUnavailable

router = APIRouter(tags=["payments"])
log = logging.getLogger(__name__)


class PaymentMethodIn(BaseModel):
    payment_method: str = Field(pattern=r"^pm_[0-9A-Za-z_]+$", description="Made in the browser by Stripe.js")


class PaymentMethodOut(BaseModel):
    customer_id: str
    stripe_customer_id: str
    payment_method: str


class CollectionOut(BaseModel):
    invoice_id: str
    status: str
    attempts: int
    next_attempt_at: datetime | None
    last_error: str | None
    payment_intent_id: str | None


def _stripe(request: Request) -> StripeApi:
    api: StripeApi | None = request.app.state.stripe
    if api is None:
        raise Problem(503, "Collection is off: BILLING_STRIPE_API_KEY is not set.")
    return api


@router.post("/v1/webhooks/stripe", include_in_schema=False)
async def stripe_webhook(request: Request, session: SessionDep) -> dict[str, bool]:
    """Stripe's signed events: checked, kept once, handled by the worker."""
    settings: BillingSettings = request.app.state.billing_settings
    secrets = settings.webhook_secrets()
    if not secrets:
        raise Problem(503, "No BILLING_STRIPE_WEBHOOK_SECRETS configured: cannot check Stripe's signature.")
    try:
        body = await read_capped(request, webhooks.MAX_BODY_BYTES)
    except BodyTooLarge:
        raise Problem(413, f"A Stripe event is never larger than {webhooks.MAX_BODY_BYTES} bytes.") from None
    try:
        event = webhooks.verify(body, request.headers.get("stripe-signature"), secrets)
    except (webhooks.InvalidSignature, ValueError) as exc:
        raise Problem(400, str(exc), errors=[{"field": "header.stripe-signature", "reason": str(exc)}]) from None
    return {"received": True, "new": await webhooks.keep(session, event)}


@router.post("/v1/customers/{customer_ref}/payment-method")
async def set_payment_method(
    customer_ref: str, data: PaymentMethodIn, request: Request, session: SessionDep
) -> PaymentMethodOut:
    """Attaches the method to the customer in Stripe (creating the customer there, once) and charges invoices to it."""
    api = _stripe(request)
    try:
        customer = await get_customer(session, customer_ref, for_update=True)
    except UnknownCustomer:
        raise unknown_customer(customer_ref) from None
    payer = await session.get(StripeCustomer, customer.id)
    try:
        if payer is None:
            payer = StripeCustomer(
                customer_id=customer.id,
                stripe_customer_id=await api.create_customer(customer.id, customer.name, customer.email),
                details_pushed_at=customer.updated_at,
            )
            session.add(payer)
        await _attach(api, customer, payer, data.payment_method)
    except PaymentDeclined as exc:
        raise Problem(402, f"Stripe refused the payment method: {exc}.") from None
    except StripeRefused as exc:
        errors = [{"field": "payment_method", "reason": f"Stripe refused it ({exc})"}]
        raise Problem(422, "Stripe refused the payment method.", errors=errors) from None
    except StripeUnavailable as exc:
        raise Problem(503, f"Stripe did not answer ({exc}); retry.", headers={"Retry-After": "5"}) from None
    payer.payment_method_id = data.payment_method
    return PaymentMethodOut(
        customer_id=customer.id, stripe_customer_id=payer.stripe_customer_id, payment_method=data.payment_method
    )


async def _attach(api: StripeApi, customer: Customer, payer: StripeCustomer, payment_method: str) -> None:
    """Attaches the method; when Stripe refuses because it no longer has the payer (deleted there, or another
    Stripe under this database), makes the payer again and attaches it to the new one."""
    try:
        await api.attach_payment_method(payer.stripe_customer_id, payment_method)
    except StripeRefused:
        if await api.customer_exists(payer.stripe_customer_id):
            raise
        gone = payer.stripe_customer_id
        payer.stripe_customer_id = await api.create_customer(customer.id, customer.name, customer.email, replacing=gone)
        payer.details_pushed_at = customer.updated_at
        log.warning("Stripe has no customer %s any more: %s is now %s", gone, customer.id, payer.stripe_customer_id)
        await api.attach_payment_method(payer.stripe_customer_id, payment_method)


@router.post("/v1/customers/{customer_ref}/credit-purchases", status_code=201, tags=["credits"])
async def buy_credits(customer_ref: str, data: PurchaseIn, request: Request) -> PurchaseOut:
    """A credit pack: a one-off invoice, finalized and charged to the customer's card while the caller waits; the
    units are granted once it is paid. When Stripe does not answer, the worker charges it later (the purchase stays
    `awaiting_payment`); a declined card voids the invoice (`declined`), and nothing is granted."""
    api, settings = _stripe(request), request.app.state.billing_settings
    sessions: async_sessionmaker[AsyncSession] = request.app.state.sessions
    now = datetime.now(UTC)
    async with (
        sessions() as session,
        session.begin(),
    ):  # committed before Stripe is called: a charge always has a record
        try:
            customer = await get_customer(session, customer_ref)
        except UnknownCustomer:
            raise unknown_customer(customer_ref) from None
        payer = await session.get(StripeCustomer, customer.id)
        if payer is None or payer.payment_method_id is None:
            reason = f"has no payment method: POST /v1/customers/{customer_ref}/payment-method first"
            raise Problem(422, "The customer cannot pay yet.", errors=[{"field": "path.customer", "reason": reason}])
        try:
            purchase = await purchases.begin(session, customer, data, now)
        except InvalidGrant as exc:
            raise invalid_grant(exc) from None
        session.add(Collection(invoice_id=purchase.invoice_id, status="due", attempts=0, next_attempt_at=now))
    async with sessions() as session, session.begin():
        await collection.attempt_now(session, api, settings.dunning_policy(), purchase.invoice_id, now)
    async with sessions() as session:
        return PurchaseOut.model_validate(await session.get(CreditPurchase, purchase.id))


@router.get("/v1/invoices/{invoice_id}/payment")
async def invoice_payment(invoice_id: str, session: SessionDep) -> CollectionOut:
    found = await session.get(Collection, invoice_id)
    if found is None:
        raise Problem(404, f"No payment is being collected for {invoice_id!r}.")
    return _out(found)


@router.post("/v1/invoices/{invoice_id}/retry-payment")
async def retry_payment(invoice_id: str, session: SessionDep) -> CollectionOut:
    """The next attempt is due now (the worker makes it within its next run)."""
    found = await collection.retry_now(session, invoice_id, datetime.now(UTC))
    if found is None:
        raise Problem(404, f"No payment is being collected for {invoice_id!r}.")
    return _out(found)


def _out(found: Collection) -> CollectionOut:
    return CollectionOut(
        invoice_id=found.invoice_id,
        status=found.status,
        attempts=found.attempts,
        next_attempt_at=found.next_attempt_at,
        last_error=found.last_error,
        payment_intent_id=found.payment_intent_id,
    )
