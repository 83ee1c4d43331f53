"""The one place that talks to Stripe (with the official SDK). Every call has a timeout, retries transient errors
(the SDK's own retries, which keep the idempotency key) and, where it creates something, an idempotency key made
from our ids, so a retried step never creates it twice. The API key never reaches a log."""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import TypeVar

import stripe
from pydantic import SecretStr
from stripe.params import CustomerCreateParams, PaymentIntentCreateParams

T = TypeVar("T")


class PaymentDeclined(Exception):
    """The card (or bank) said no; retrying the same method later may work."""


class StripeUnavailable(Exception):
    """Stripe could not be reached or failed; the same request (same idempotency key) is safe to send again."""


class StripeRefused(StripeUnavailable):
    """Stripe refused the request itself (not the card): logged on the collection and tried again later."""


@dataclass(frozen=True)
class Charge:
    payment_intent_id: str
    status: str  # Stripe's PaymentIntent status: succeeded, processing, requires_action, ...


class StripeApi:
    def __init__(self, api_key: SecretStr, api_base: str, *, timeout_s: float = 10.0, retries: int = 2) -> None:
        self._client = stripe.StripeClient(
            api_key.get_secret_value(),
            base_addresses={"api": api_base} if api_base else None,
            http_client=stripe.HTTPXClient(timeout=timeout_s),
            max_network_retries=retries,
        )

    async def create_customer(self, customer_id: str, name: str, email: str | None) -> str:
        params: CustomerCreateParams = {"name": name, "metadata": {"tally_customer_id": customer_id}}
        if email:
            params["email"] = email
        customer = await self._call(
            self._client.v1.customers.create_async(params, {"idempotency_key": f"tally-customer-{customer_id}"})
        )
        return str(customer.id)

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

    async def payment_intent_status(self, payment_intent_id: str) -> str:
        """Re-read from Stripe: webhooks come out of order, the object's current state does not."""
        intent = await self._call(self._client.v1.payment_intents.retrieve_async(payment_intent_id))
        return str(intent.status)

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
