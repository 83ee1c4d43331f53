"""The one place that talks to Stripe (with the official SDK). Every call has a timeout, retries transient errors
(the SDK's own retries, which keep the idempotency key) and, where it creates something, an idempotency key made
from our ids, so a retried step never creates it twice. The API key never reaches a log."""

from collections.abc import Awaitable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import stripe
from pydantic import SecretStr
from stripe.params import (
    CustomerCreateParams,
    CustomerUpdateParams,
    InvoiceCreateParams,
    InvoiceItemCreateParams,
    InvoiceListParams,
    InvoicePayParams,
    InvoiceRetrieveParams,
    PaymentIntentCreateParams,
    RefundListParams,
)

T = TypeVar("T")


class PaymentDeclined(Exception):
    """The card (or bank) said no; retrying the same method later may work."""


class StripeUnavailable(Exception):
    """Stripe could not be reached or failed; the same request (same idempotency key) is safe to send again."""


class StripeRefused(StripeUnavailable):
    """Stripe refused the request itself (not the card): logged on the collection and tried again later."""


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str | None  # None when Stripe had nothing to charge (a zero total)
    status: str  # Stripe's PaymentIntent status: succeeded, processing, requires_action, ...


@dataclass(frozen=True)
class StripeInvoice:
    id: str
    status: str  # draft, open, paid, uncollectible, void
    total_minor: int
    item_keys: frozenset[str]  # the `tally_item` metadata of its lines: which of our items it has


@dataclass(frozen=True)
class InvoiceItem:
    key: str  # unique within the invoice: the idempotency key and the line's metadata say it
    description: str
    amount_minor: int  # negative for a credit
    period_start: datetime
    period_end: datetime


class StripeApi:
    def __init__(self, api_key: SecretStr, api_base: str, *, timeout_s: float = 10.0, retries: int = 2) -> None:
        self._client = stripe.StripeClient(
            api_key.get_secret_value(),
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=timeout_s),
            max_network_retries=retries,
        )

    async def create_customer(self, customer_id: str, name: str, email: str | None, *, replacing: str = "") -> str:
        """`replacing`: the Stripe customer that is gone, when this one takes its place (a key of its own)."""
        params: CustomerCreateParams = {"name": name, "metadata": {"tally_customer_id": customer_id}}
        if email:
            params["email"] = email
        key = f"tally-customer-{customer_id}" + (f"-replacing-{replacing}" if replacing else "")
        customer = await self._call(self._client.v1.customers.create_async(params, {"idempotency_key": key}))
        return str(customer.id)

    async def update_customer(self, stripe_customer_id: str, name: str, email: str | None) -> None:
        """The customer's name and email as Tally has them (an email removed in Tally stays in Stripe)."""
        params: CustomerUpdateParams = {"name": name}
        if email:
            params["email"] = email
        await self._call(self._client.v1.customers.update_async(stripe_customer_id, params))

    async def customer_exists(self, stripe_customer_id: str) -> bool:
        """False when Stripe has no such customer, or only a deleted one."""
        try:
            found = await self._client.v1.customers.retrieve_async(stripe_customer_id)
        except stripe.InvalidRequestError as exc:
            if exc.http_status == 404:
                return False
            raise StripeRefused(f"{type(exc).__name__}: {exc.user_message or exc}"[:500]) from None
        except stripe.StripeError as exc:
            raise StripeUnavailable(type(exc).__name__) from None
        return not found.to_dict().get("deleted", False)

    async def attach_payment_method(self, stripe_customer_id: str, payment_method_id: str) -> None:
        """Attaches the method (made in the browser by Stripe.js) and makes it the customer's default."""
        await self._call(
            self._client.v1.payment_methods.attach_async(payment_method_id, {"customer": stripe_customer_id})
        )
        await self._call(
            self._client.v1.customers.update_async(
                stripe_customer_id, {"invoice_settings": {"default_payment_method": payment_method_id}}
            )
        )

    async def charge(  # noqa: PLR0917 (what a charge needs)
        self,
        stripe_customer_id: str,
        payment_method_id: str,
        amount_minor: int,
        currency: str,
        invoice_id: str,
        attempt: int,
    ) -> Charge:
        """One collection attempt of a Tally invoice, confirmed off-session; one idempotency key per attempt."""
        params: PaymentIntentCreateParams = {
            "amount": amount_minor,
            "currency": currency.lower(),
            "customer": stripe_customer_id,
            "payment_method": payment_method_id,
            "confirm": True,
            "off_session": True,
            "metadata": {"tally_invoice_id": invoice_id, "attempt": str(attempt)},
        }
        options: stripe.RequestOptions = {"idempotency_key": f"tally-{invoice_id}-attempt-{attempt}"}
        intent = await self._call(self._client.v1.payment_intents.create_async(params, options))
        return Charge(str(intent.id), str(intent.status))

    async def find_invoice(self, stripe_customer_id: str, invoice_id: str) -> StripeInvoice | None:
        """The Stripe invoice made for ours earlier (its metadata names ours), unless voided: a step interrupted long
        enough for its idempotency key to expire (24 hours) still never makes a second one."""
        params: InvoiceListParams = {"customer": stripe_customer_id, "limit": 100}
        page = await self._call(self._client.v1.invoices.list_async(params))
        async for found in page.auto_paging_iter():
            if _metadata(found.metadata, "tally_invoice_id") == invoice_id and found.status != "void":
                return await self._invoice(str(found.id))
        return None

    async def create_invoice(
        self, stripe_customer_id: str, invoice_id: str, number: str, currency: str
    ) -> StripeInvoice:
        """A draft that Stripe will not finalize or charge by itself: Tally says when."""
        params: InvoiceCreateParams = {
            "customer": stripe_customer_id,
            "currency": currency.lower(),
            "collection_method": "charge_automatically",
            "auto_advance": False,
            "pending_invoice_items_behavior": "exclude",
            "description": f"Invoice {number}",
            "metadata": {"tally_invoice_id": invoice_id, "tally_invoice_number": number},
        }
        options: stripe.RequestOptions = {"idempotency_key": f"tally-{invoice_id}-invoice"}
        created = await self._call(self._client.v1.invoices.create_async(params, options))
        return StripeInvoice(str(created.id), str(created.status), int(created.total or 0), frozenset())

    async def add_items(
        self, stripe_customer_id: str, stripe_invoice_id: str, currency: str, items: Sequence[InvoiceItem]
    ) -> None:
        for item in items:
            params: InvoiceItemCreateParams = {
                "customer": stripe_customer_id,
                "invoice": stripe_invoice_id,
                "currency": currency.lower(),
                "amount": item.amount_minor,
                "description": item.description,
                "period": {"start": int(item.period_start.timestamp()), "end": int(item.period_end.timestamp())},
                "metadata": {"tally_item": item.key},
            }
            options: stripe.RequestOptions = {"idempotency_key": f"tally-{stripe_invoice_id}-{item.key}"}
            await self._call(self._client.v1.invoice_items.create_async(params, options))

    async def finalize_invoice(self, stripe_invoice_id: str) -> StripeInvoice:
        await self._call(self._client.v1.invoices.finalize_invoice_async(stripe_invoice_id, {"auto_advance": False}))
        return await self._invoice(stripe_invoice_id)

    async def pay_invoice(
        self, stripe_invoice_id: str, invoice_id: str, payment_method_id: str, attempt: int
    ) -> Charge:
        """One collection attempt of a finalized Stripe invoice, off-session, with the customer's method as it is now;
        one idempotency key per attempt."""
        options: stripe.RequestOptions = {"idempotency_key": f"tally-{invoice_id}-attempt-{attempt}"}
        params: InvoicePayParams = {"off_session": True, "payment_method": payment_method_id}
        await self._call(self._client.v1.invoices.pay_async(stripe_invoice_id, params, options))
        expand: InvoiceRetrieveParams = {"expand": ["payments.data.payment.payment_intent"]}
        paid = await self._call(self._client.v1.invoices.retrieve_async(stripe_invoice_id, expand))
        payments = paid.payments.data if paid.payments else []
        intent = payments[0].payment.payment_intent if payments else None
        if intent is None or isinstance(intent, str):
            return Charge(intent, "succeeded" if paid.status == "paid" else "processing")
        return Charge(str(intent.id), "succeeded" if paid.status == "paid" else str(intent.status))

    async def close_invoice(self, stripe_invoice_id: str, status: str) -> None:
        """Makes the Stripe invoice `void` or `uncollectible`, as ours is, so nobody pays it there."""
        invoices = self._client.v1.invoices
        options: stripe.RequestOptions = {"idempotency_key": f"tally-{stripe_invoice_id}-{status}"}
        if status == "void":
            await self._call(invoices.void_invoice_async(stripe_invoice_id, options=options))
        else:
            await self._call(invoices.mark_uncollectible_async(stripe_invoice_id, options=options))

    async def _invoice(self, stripe_invoice_id: str) -> StripeInvoice:
        found = await self._call(self._client.v1.invoices.retrieve_async(stripe_invoice_id))
        lines = await self._call(self._client.v1.invoices.line_items.list_async(stripe_invoice_id, {"limit": 100}))
        keys = [_metadata(line.metadata, "tally_item") async for line in lines.auto_paging_iter()]
        return StripeInvoice(str(found.id), str(found.status), int(found.total or 0), frozenset(k for k in keys if k))

    async def payment_intent_status(self, payment_intent_id: str) -> str:
        """Re-read from Stripe: webhooks come out of order, the object's current state does not."""
        intent = await self._call(self._client.v1.payment_intents.retrieve_async(payment_intent_id))
        return str(intent.status)

    async def refunds_of(self, charge_id: str) -> list[dict[str, Any]]:
        """Every refund of the charge, as Stripe has them now (plain dicts)."""
        params: RefundListParams = {"charge": charge_id, "limit": 100}
        page = await self._call(self._client.v1.refunds.list_async(params))
        return [refund.to_dict() async for refund in page.auto_paging_iter()]

    async def subscription_state(self, subscription_id: str) -> tuple[str, bool]:
        """(status, cancel_at_period_end) of a subscription, re-read from Stripe."""
        found = await self._call(self._client.v1.subscriptions.retrieve_async(subscription_id))
        return str(found.status), bool(found.cancel_at_period_end)

    @staticmethod
    async def _call(request: Awaitable[T]) -> T:
        try:
            return await request
        except stripe.CardError as exc:
            raise PaymentDeclined(exc.code or "card_declined") from None
        except (stripe.APIConnectionError, stripe.RateLimitError, stripe.APIError) as exc:
            raise StripeUnavailable(type(exc).__name__) from None
        except stripe.StripeError as exc:
            raise StripeRefused(f"{type(exc).__name__}: {exc.user_message or exc}"[:500]) from None


def _metadata(metadata: stripe.StripeObject | dict[str, str] | None, key: str) -> str | None:
    """A value of a Stripe object's metadata (absent, or a StripeObject, which is no dict)."""
    value = metadata[key] if metadata is not None and key in metadata else None
    return value if isinstance(value, str) else None
