"""Reading a Stripe account for an import, with the official SDK: customers page by page, then each customer's
subscriptions (every status) with all their items and the tiers of their tiered prices, and invoices, the products
named by their prices and, where the API keeps them apart from the invoice (current API versions), each paid
invoice's payment; the account's refunds and disputes, and the billing meters its metered prices name. Every object
comes back as a plain dict, so the rest of the import never sees the SDK.

The key lives in this reader's client for one run and is never stored or logged; Stripe's errors are turned into
ImportFailed with a message fit for the import's status (the key masked out of it)."""

from collections.abc import AsyncIterator, Awaitable, Callable
from functools import partial
from typing import Any, TypeVar, overload

import stripe
from pydantic import SecretStr
from stripe.params import (
    CustomerListParams,
    DisputeListParams,
    InvoiceLineItemListParams,
    InvoiceListParams,
    InvoicePaymentListParams,
    RefundListParams,
    SubscriptionItemListParams,
    SubscriptionListParams,
)

T = TypeVar("T")
P = TypeVar(
    "P",
    CustomerListParams,
    DisputeListParams,
    RefundListParams,
    SubscriptionListParams,
    SubscriptionItemListParams,
    InvoiceListParams,
    InvoiceLineItemListParams,
)
Raw = dict[str, Any]
PAGE = 100  # Stripe's largest page


class ImportFailed(Exception):
    """Stripe could not be read; the message says why and holds no secret."""


class StripeReader:
    def __init__(self, api_key: SecretStr, api_base: str, *, timeout_s: float = 30.0, retries: int = 3) -> None:
        self._key = api_key
        self._where = api_base or "api.stripe.com"
        self._http = stripe.HTTPXClient(timeout=timeout_s)
        self._client = stripe.StripeClient(
            api_key.get_secret_value(),
            base_addresses={"api": api_base} if api_base else None,
            http_client=self._http,
            max_network_retries=retries,
        )
        self._products: dict[str, str | None] = {}
        self._tiered: dict[tuple[str, str], Raw | None] = {}  # (price or plan, id) -> it with its tiers
        self._invoice_payments = True  # until the API says it has no such endpoint
        self._meters: dict[str, Raw | None] = {}

    def customers(self) -> AsyncIterator[Raw]:
        """Every customer (Stripe's order: newest first); deleted customers are not listed by Stripe."""
        params: CustomerListParams = {"limit": PAGE}
        return self._every(self._client.v1.customers.list_async, params)

    async def subscriptions_of(self, customer_id: str) -> list[Raw]:
        """Every subscription of the customer, canceled ones too, each with all its items, their tiered prices with
        their tiers."""
        params: SubscriptionListParams = {"customer": customer_id, "status": "all", "limit": PAGE}
        return [
            await self._completed(raw) async for raw in self._every(self._client.v1.subscriptions.list_async, params)
        ]

    async def invoices_of(self, customer_id: str) -> list[Raw]:
        params: InvoiceListParams = {"customer": customer_id, "limit": PAGE}
        return [raw async for raw in self._every(self._client.v1.invoices.list_async, params)]

    async def invoice_lines(self, invoice_id: str) -> list[Raw]:
        """Every line of the invoice (an invoice in a list shows its first lines only)."""
        params: InvoiceLineItemListParams = {"limit": PAGE}
        list_page = partial(self._client.v1.invoices.line_items.list_async, invoice_id)
        return [raw async for raw in self._every(list_page, params)]

    async def invoice_payments(self, invoice_id: str) -> list[Raw]:
        """The invoice's paid InvoicePayments (current API versions keep the payment intent there, not on the
        invoice); an empty list where the API has no such endpoint (older versions, localstripe)."""
        if not self._invoice_payments:
            return []
        params: InvoicePaymentListParams = {"invoice": invoice_id, "status": "paid", "limit": PAGE}
        try:
            page = await self._client.v1.invoice_payments.list_async(params)
        except stripe.StripeError as exc:
            if exc.http_status == 404:
                self._invoice_payments = False
                return []
            raise self._failed(exc) from None
        return [payment.to_dict() for payment in page.data]

    async def refunds(self) -> list[Raw]:
        """Every refund of the account (one list for the run, rather than one call per paid invoice)."""
        params: RefundListParams = {"limit": PAGE}
        return [raw async for raw in self._every(self._client.v1.refunds.list_async, params)]

    async def disputes(self) -> list[Raw]:
        """Every dispute of the account; none where the API has no such endpoint (localstripe)."""
        params: DisputeListParams = {"limit": PAGE}
        return [raw async for raw in self._every(self._client.v1.disputes.list_async, params, missing_ok=True)]

    async def billing_meter(self, meter_id: str) -> Raw | None:
        """The billing meter (its event name, aggregation, payload keys), read once per run; None when Stripe has
        no such meter (or no meters at all: localstripe)."""
        if meter_id not in self._meters:
            found = await self._call(self._client.v1.billing.meters.retrieve_async(meter_id), missing_ok=True)
            self._meters[meter_id] = None if found is None else found.to_dict()
        return self._meters[meter_id]

    async def product_name(self, product_id: str) -> str | None:
        """The product's name (read once per product); None when Stripe has no such product any more."""
        if product_id not in self._products:
            try:
                product = await self._client.v1.products.retrieve_async(product_id)
            except stripe.InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise self._failed(exc) from None
                self._products[product_id] = None
            except stripe.StripeError as exc:
                raise self._failed(exc) from None
            else:
                self._products[product_id] = product.to_dict().get("name") or None
        return self._products[product_id]

    async def close(self) -> None:
        """Closes the connections; the client, and the key with it, go with this reader."""
        await self._http.close_async()  # type: ignore[no-untyped-call]

    async def _completed(self, subscription: Raw) -> Raw:
        """A list shows a subscription's first items only, and a price's tiers only when expanded, which the list
        cannot do (`data.items.data.price.tiers` is five levels; Stripe expands four): both are read here."""
        items = subscription.get("items") or {}
        if items.get("has_more"):
            params: SubscriptionItemListParams = {"subscription": subscription["id"], "limit": PAGE}
            listed = self._every(self._client.v1.subscription_items.list_async, params)
            items = items | {"data": [raw async for raw in listed], "has_more": False}
        for item in items.get("data") or []:
            for kind in ("price", "plan"):
                price = item.get(kind)
                if isinstance(price, dict) and price.get("billing_scheme") == "tiered" and price.get("tiers") is None:
                    item[kind] = await self._with_tiers(kind, price["id"]) or price
        return subscription | {"items": items}

    async def _with_tiers(self, kind: str, price_id: str) -> Raw | None:
        """The price (or plan) with its tiers, read once per run; None when Stripe has it no more."""
        if (kind, price_id) not in self._tiered:
            prices = self._client.v1.prices if kind == "price" else self._client.v1.plans
            try:
                found = await prices.retrieve_async(price_id, {"expand": ["tiers"]})
            except stripe.InvalidRequestError as exc:
                if exc.http_status != 404:
                    raise self._failed(exc) from None
                self._tiered[kind, price_id] = None
            except stripe.StripeError as exc:
                raise self._failed(exc) from None
            else:
                self._tiered[kind, price_id] = found.to_dict()
        return self._tiered[kind, price_id]

    async def _every(
        self, list_page: Callable[[P], Awaitable[stripe.ListObject[Any]]], params: P, *, missing_ok: bool = False
    ) -> AsyncIterator[Raw]:
        """Every object of a list, page by page (`params` moves on past each page); with `missing_ok`, none where
        the API has no such list."""
        while True:
            page = await self._call(list_page(params), missing_ok=missing_ok)
            if page is None:
                return
            for found in page.data:
                yield found.to_dict()
            if not page.has_more or not page.data:
                return
            params["starting_after"] = str(page.data[-1].id)

    @overload
    async def _call(self, request: Awaitable[T]) -> T: ...
    @overload
    async def _call(self, request: Awaitable[T], *, missing_ok: bool) -> T | None: ...
    async def _call(self, request: Awaitable[T], *, missing_ok: bool = False) -> T | None:
        """The answer; with `missing_ok`, None for a 404 (no such object, or no such endpoint)."""
        try:
            return await request
        except stripe.StripeError as exc:
            if missing_ok and exc.http_status == 404:
                return None
            raise self._failed(exc) from None

    def _failed(self, exc: stripe.StripeError) -> ImportFailed:
        if isinstance(exc, stripe.AuthenticationError):
            reason = (
                f"Stripe at {self._where} refused the API key (HTTP {exc.http_status}): use a secret (sk_) or "
                "restricted (rk_) key of the account, with read access"
            )
        elif isinstance(exc, stripe.PermissionError):
            reason = f"the API key may not read this ({exc.user_message or exc}): give the restricted key read access"
        elif isinstance(exc, stripe.APIConnectionError):
            reason = f"could not reach Stripe at {self._where}: the connection failed or timed out, retries too"
        elif isinstance(exc, stripe.RateLimitError):
            reason = "Stripe kept answering 429 (rate limited) after retries; run the import again later"
        else:
            reason = f"Stripe answered {type(exc).__name__} (HTTP {exc.http_status}): {exc.user_message or exc}"
        return ImportFailed(reason.replace(self._key.get_secret_value(), "***")[:1000])
