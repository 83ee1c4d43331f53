"""Refunds in an imported account (a localstripe of this module's own, driven with the official SDK): a partial
refund of a paid invoice is recorded as the webhook path records it, once; a refund made after an import is brought
over by the next run, alone; the webhook path and the import never announce one twice. (localstripe has no
disputes: those run against recorded payloads, see test_stripe_import_recorded.py.)"""

import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import stripe
from billing.payment import webhooks
from billing.payment.stripe_api import StripeApi
from pydantic import SecretStr
from tally_stack.stripe_local import TEST_API_KEY, LocalStripe, signed_headers

DAY = 86_400
RECORDED = Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "stripe"  # Stripe's webhook payloads


@pytest.fixture(scope="module")
async def paid(account_base: str) -> tuple[stripe.StripeClient, str, str]:
    """A customer whose subscription's first invoice was paid: (client, Stripe customer, payment intent)."""
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": account_base})
    card: Any = {"number": "4242424242424242", "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = await client.v1.payment_methods.create_async({"type": "card", "card": card})
    params: Any = {"name": "Rae", "payment_method": method.id}
    customer = await client.v1.customers.create_async(
        params | {"invoice_settings": {"default_payment_method": method.id}}
    )
    product = await client.v1.products.create_async({"name": "Pro"})
    plan = await client.v1.plans.create_async(
        {"amount": 2900, "currency": "usd", "interval": "month", "product": product.id}
    )
    start = int(time.time()) - 20 * DAY
    await client.v1.subscriptions.create_async(
        {"customer": customer.id, "items": [{"plan": plan.id}], "backdate_start_date": start}
    )
    [invoice] = (await client.v1.invoices.list_async({"customer": customer.id})).data
    assert invoice.status == "paid"
    return client, str(customer.id), str(invoice.to_dict()["payment_intent"])


async def refunded(imports: Any, customer_id: str, count: int) -> list[tuple[int, str | None, datetime, str]]:
    events = await imports.announced_at_least([customer_id], "tally.payment.refunded", count)
    return [
        (
            e["data"]["amount_minor"],
            e["data"]["payment_intent_id"],
            datetime.fromisoformat(e["time"]),
            e["data"]["invoice_id"],
        )
        for e in events
        if e["type"] == "tally.payment.refunded"
    ]


async def test_refunds_are_imported_once_and_new_ones_by_the_next_run(
    imports: Any,
    billing_api: httpx.AsyncClient,
    account_base: str,
    paid: tuple[stripe.StripeClient, str, str],
    billing_worker: None,
) -> None:
    client, stripe_customer, intent = paid
    first = await client.v1.refunds.create_async({"payment_intent": intent, "amount": 700})

    result = await imports.run({"api_key": TEST_API_KEY, "api_base": account_base})

    assert (result["status"], result["counts"]["refunds"]["created"], result["counts"]["payments"]["created"]) == (
        "succeeded",
        1,
        1,
    )
    customer_id = (await billing_api.get(f"/v1/customers/{stripe_customer}")).json()["id"]
    [invoice] = (await billing_api.get("/v1/invoices", params={"customer_id": customer_id})).json()["data"]
    at_first = datetime.fromtimestamp(first.created, UTC)
    assert await refunded(imports, customer_id, 1) == [(700, intent, at_first, invoice["id"])]
    assert invoice["status"] == "paid"  # a refund gives money back; the invoice was paid all the same

    again = await imports.run({"api_key": TEST_API_KEY, "api_base": account_base})

    assert (again["counts"]["refunds"]["created"], again["counts"]["refunds"]["existing"]) == (0, 1)

    second = await client.v1.refunds.create_async({"payment_intent": intent, "amount": 300})
    later = await imports.run({"api_key": TEST_API_KEY, "api_base": account_base})

    assert (later["counts"]["refunds"]["created"], later["counts"]["refunds"]["existing"]) == (1, 1)
    at_second = datetime.fromtimestamp(second.created, UTC)
    assert await refunded(imports, customer_id, 2) == [
        (700, intent, at_first, invoice["id"]),
        (300, intent, at_second, invoice["id"]),  # this refund's own amount: 1000 refunded in all
    ]  # and the first once: the relay publishes in order, so one announced again by the second run would be here


@pytest.mark.usefixtures("billing_worker")
async def test_a_refund_reaches_tally_once_by_webhook_and_import_alike(
    imports: Any, kit: Any, local_stripe: LocalStripe, account_base: str, paid: tuple[stripe.StripeClient, str, str]
) -> None:
    """The webhook path and the import record into the same table by Stripe's refund id: a refund the import brought
    is not announced again by its webhook, and one the webhook brought is not imported again."""
    client, stripe_customer, intent = paid
    await imports.run({"api_key": TEST_API_KEY, "api_base": account_base})  # the customer and his payment are Tally's
    customer_id = (await kit.api.get(f"/v1/customers/{stripe_customer}")).json()["id"]
    before = await refunded(imports, customer_id, 0)
    late = await client.v1.refunds.create_async({"payment_intent": intent, "amount": 150})
    body = (RECORDED / "charge.refunded.json").read_text()
    body = body.replace("{payment_intent}", intent).replace("{charge}", str(late.charge))
    raw = body.replace('"evt_3Q', f'"evt_{late.id}_').encode()
    delivered = await kit.api.post(
        "/v1/webhooks/stripe", content=raw, headers=signed_headers(raw, local_stripe.webhook_secret)
    )
    assert delivered.status_code == 200, delivered.text
    account = StripeApi(SecretStr(TEST_API_KEY), account_base)  # this module's Stripe, where the charge is

    await webhooks.handle_inbox(kit.sessions, account, imports.settings.dunning_policy(), datetime.now(UTC))
    again = await imports.run({"api_key": TEST_API_KEY, "api_base": account_base})

    assert (again["counts"]["refunds"]["created"], again["counts"]["refunds"]["existing"]) == (0, len(before) + 1)
    found = await refunded(imports, customer_id, len(before) + 1)
    assert [(amount, at) for amount, _, at, _ in found[len(before) :]] == [
        (150, datetime.fromtimestamp(late.created, UTC))
    ]  # every refund of the charge is re-read by the webhook path: those the import brought are not announced again
