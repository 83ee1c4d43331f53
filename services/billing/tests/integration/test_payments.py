"""Collecting invoices through Stripe (the official SDK against localstripe), with dunning, and Stripe's signed
webhooks: verified, kept once, handled by re-reading the payment from Stripe."""

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import stripe
from billing.config import BillingSettings
from billing.customers.models import Customer
from billing.imports.models import ImportedObject, StripeImport
from billing.invoices import closing
from billing.payment import collection, webhooks
from billing.payment.details import push_details
from billing.payment.models import StripeCustomer, StripeEvent
from billing.payment.stripe_api import StripeApi
from contracts.topics import BILLING_EVENTS
from pydantic import SecretStr
from tally_stack.stripe_local import LocalStripe, signed_headers
from tally_stack.testing import consume_all, eventually

GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341"  # localstripe declines charges on the second


@pytest.fixture
def api(billing_settings: BillingSettings) -> StripeApi:
    assert billing_settings.stripe_api_key is not None
    return StripeApi(billing_settings.stripe_api_key, billing_settings.stripe_api_base)


async def card(local_stripe: LocalStripe, number: str) -> str:
    """A payment method as Stripe.js would make it in the customer's browser."""
    client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
    method = await client.v1.payment_methods.create_async(
        {"type": "card", "card": {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}}
    )
    return str(method.id)


async def finalized_invoice(kit: Any, local_stripe: LocalStripe, number: str) -> tuple[dict[str, Any], str]:
    """A customer paying by `number`, subscribed (its first invoice finalized); returns (customer, invoice id)."""
    meter, _ = await kit.count_meter()
    plan = await kit.plan(meter)
    acme = await kit.customer(tax_rate="0.2")
    attached = await kit.api.post(
        f"/v1/customers/{acme['id']}/payment-method", json={"payment_method": await card(local_stripe, number)}
    )
    assert attached.status_code == 200, attached.text
    sub = await kit.created("/v1/subscriptions", {"customer_id": acme["id"], "plan_key": plan})
    [invoice] = (await kit.api.get("/v1/invoices", params={"customer_id": acme["id"]})).json()["data"]
    assert (await kit.api.post(f"/v1/invoices/{invoice['id']}/finalize")).status_code == 200
    return acme | {"subscription_id": sub["id"]}, invoice["id"]


async def collected(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, settings: BillingSettings
) -> tuple[dict[str, Any], str, str]:
    """A customer whose first invoice was collected: (customer, invoice id, Stripe payment intent id)."""
    acme, invoice_id = await finalized_invoice(kit, local_stripe, GOOD_CARD)
    await collection.run(kit.sessions, api, settings.dunning_policy(), datetime.now(UTC))
    intent_id = (await kit.api.get(f"/v1/invoices/{invoice_id}/payment")).json()["payment_intent_id"]
    return acme, invoice_id, str(intent_id)


async def state(kit: Any, acme: dict[str, Any], invoice_id: str) -> tuple[str, str, str, int]:
    """(invoice status, subscription status, collection status, attempts)."""
    invoice = (await kit.api.get(f"/v1/invoices/{invoice_id}")).json()
    sub = (await kit.api.get(f"/v1/subscriptions/{acme['subscription_id']}")).json()
    paying = (await kit.api.get(f"/v1/invoices/{invoice_id}/payment")).json()
    return invoice["status"], sub["status"], paying["status"], paying["attempts"]


async def test_a_finalized_invoice_is_collected_once(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    acme, invoice_id = await finalized_invoice(kit, local_stripe, GOOD_CARD)
    now = datetime.now(UTC)
    policy = billing_settings.dunning_policy()

    await collection.run(kit.sessions, api, policy, now)
    await collection.run(kit.sessions, api, policy, now + timedelta(days=1))

    assert await state(kit, acme, invoice_id) == ("paid", "active", "paid", 1)
    paying = (await kit.api.get(f"/v1/invoices/{invoice_id}/payment")).json()
    client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
    intent = await client.v1.payment_intents.retrieve_async(paying["payment_intent_id"])
    assert (intent.status, intent.amount, intent.currency) == ("succeeded", 5880, "usd")


async def test_a_declined_card_goes_through_dunning_to_cancellation(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    acme, invoice_id = await finalized_invoice(kit, local_stripe, DECLINED_CARD)
    policy = billing_settings.dunning_policy()
    first = datetime.now(UTC)

    await collection.run(kit.sessions, api, policy, first)
    assert await state(kit, acme, invoice_id) == ("finalized", "past_due", "due", 1)
    paying = (await kit.api.get(f"/v1/invoices/{invoice_id}/payment")).json()
    assert datetime.fromisoformat(paying["next_attempt_at"]) == first + timedelta(days=3)
    assert paying["last_error"] == "card_declined"
    for day, attempts, status in ((3, 2, "due"), (5, 3, "due"), (7, 4, "failed")):
        await collection.run(kit.sessions, api, policy, first + timedelta(days=day, seconds=1))
        assert await state(kit, acme, invoice_id) == ("finalized", "past_due", status, attempts)

    await collection.run(kit.sessions, api, policy, first + timedelta(days=14, seconds=1))

    assert await state(kit, acme, invoice_id) == ("uncollectible", "canceled", "uncollectible", 4)
    entitlements = (await kit.api.get(f"/v1/customers/{acme['id']}/entitlements")).json()
    assert entitlements["limits"] == []


async def test_a_new_card_and_retry_now_restore_the_subscription(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    acme, invoice_id = await finalized_invoice(kit, local_stripe, DECLINED_CARD)
    policy, now = billing_settings.dunning_policy(), datetime.now(UTC)
    await collection.run(kit.sessions, api, policy, now)
    assert (await state(kit, acme, invoice_id))[1] == "past_due"

    new_card = {"payment_method": await card(local_stripe, GOOD_CARD)}
    assert (await kit.api.post(f"/v1/customers/{acme['id']}/payment-method", json=new_card)).status_code == 200
    assert (await kit.api.post(f"/v1/invoices/{invoice_id}/retry-payment")).json()["status"] == "due"
    await collection.run(kit.sessions, api, policy, now + timedelta(minutes=1))

    assert await state(kit, acme, invoice_id) == ("paid", "active", "paid", 2)


async def test_stripe_unreachable_is_retried_later_and_charges_once(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    acme, invoice_id = await finalized_invoice(kit, local_stripe, GOOD_CARD)
    policy, now = billing_settings.dunning_policy(), datetime.now(UTC)
    unreachable = StripeApi(SecretStr(local_stripe.api_key), "http://127.0.0.1:9", timeout_s=1, retries=0)

    await collection.run(kit.sessions, unreachable, policy, now)
    paying = (await kit.api.get(f"/v1/invoices/{invoice_id}/payment")).json()
    assert (paying["status"], paying["attempts"], paying["last_error"]) == ("due", 0, "APIConnectionError")
    await collection.run(kit.sessions, api, policy, now + timedelta(minutes=1))  # not due yet
    assert (await state(kit, acme, invoice_id))[0] == "finalized"
    await collection.run(kit.sessions, api, policy, now + timedelta(minutes=6))

    assert await state(kit, acme, invoice_id) == ("paid", "active", "paid", 1)


async def test_webhooks_are_verified_kept_once_and_handled_from_stripes_state(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    acme, invoice_id, intent_id = await collected(kit, local_stripe, api, billing_settings)
    policy, now = billing_settings.dunning_policy(), datetime.now(UTC)
    event = {
        "id": f"evt_{intent_id}",
        "type": "payment_intent.succeeded",
        "data": {"object": {"id": intent_id, "amount": 5880}},
    }
    body = json.dumps(event).encode()
    secret = local_stripe.webhook_secret

    answers = [
        await kit.api.post("/v1/webhooks/stripe", content=body, headers=signed_headers(body, secret)) for _ in range(3)
    ]

    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["new"] for a in answers] == [True, False, False]
    forged = await kit.api.post("/v1/webhooks/stripe", content=body, headers=signed_headers(body, "whsec_forged"))
    stale = await kit.api.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, secret, int(time.time()) - 301)
    )
    changed = body.replace(b"5880", b"1")
    replayed = await kit.api.post("/v1/webhooks/stripe", content=changed, headers=signed_headers(body, secret))
    missing = await kit.api.post("/v1/webhooks/stripe", content=body)
    assert [r.status_code for r in (forged, stale, replayed, missing)] == [400, 400, 400, 400]
    assert forged.json()["errors"][0]["field"] == "header.stripe-signature"

    await webhooks.handle_inbox(kit.sessions, api, policy, now)  # the payment was seen paid already: nothing twice
    assert await state(kit, acme, invoice_id) == ("paid", "active", "paid", 1)
    unknown = {"id": f"evt_other_{intent_id}", "type": "customer.updated", "data": {"object": {"id": "cus_x"}}}
    raw = json.dumps(unknown).encode()
    assert (
        await kit.api.post("/v1/webhooks/stripe", content=raw, headers=signed_headers(raw, secret))
    ).status_code == 200
    assert await webhooks.handle_inbox(kit.sessions, api, policy, now) >= 1


RECORDED = Path(__file__).resolve().parents[4] / "tests" / "fixtures" / "stripe"  # localstripe sends neither


async def deliver(kit: Any, local_stripe: LocalStripe, name: str, event_id: str, **ids: str) -> None:
    """A recorded Stripe event naming this test's objects (`{payment_intent}`, `{charge}`), under its own id."""
    body = (RECORDED / f"{name}.json").read_text()
    for field, value in ids.items():
        body = body.replace(f"{{{field}}}", value)
    raw = body.replace('"evt_3Q', f'"evt_{event_id}_').encode()
    response = await kit.api.post(
        "/v1/webhooks/stripe", content=raw, headers=signed_headers(raw, local_stripe.webhook_secret)
    )
    assert response.status_code == 200, response.text


@pytest.mark.usefixtures("billing_worker")
async def test_refunds_and_disputes_from_recorded_stripe_payloads_are_announced(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    """Each refund once, for its own amount at its own moment: the charge in a `charge.refunded` event carries the
    running total (`amount_refunded`), so a second partial refund must not announce the first again."""
    acme, _, intent_id = await collected(kit, local_stripe, api, billing_settings)
    policy, now = billing_settings.dunning_policy(), datetime.now(UTC)
    client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
    first = await client.v1.refunds.create_async({"payment_intent": intent_id, "amount": 1000})
    await deliver(
        kit, local_stripe, "charge.refunded", f"{intent_id}_1", payment_intent=intent_id, charge=str(first.charge)
    )
    await deliver(kit, local_stripe, "charge.dispute.created", intent_id, payment_intent=intent_id)
    await webhooks.handle_inbox(kit.sessions, api, policy, now)
    second = await client.v1.refunds.create_async({"payment_intent": intent_id, "amount": 250})
    for delivery in ("2", "3"):  # the second refund's event, and a delivery of it again under another id
        await deliver(
            kit,
            local_stripe,
            "charge.refunded",
            f"{intent_id}_{delivery}",
            payment_intent=intent_id,
            charge=str(first.charge),
        )
    await webhooks.handle_inbox(kit.sessions, api, policy, now)

    async def announced() -> list[tuple[str, int, str | None, datetime]]:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        events = [json.loads(r.value) for r in records if r.key == acme["id"].encode()]
        found = [
            (e["type"], e["data"]["amount_minor"], e["data"]["reason"], datetime.fromisoformat(e["time"]))
            for e in events
            if e["type"].startswith("tally.payment.") and e["type"] != "tally.payment.succeeded"
        ]
        assert [fact[:3] for fact in found] == [
            ("tally.payment.refunded", 1000, "refunded"),
            ("tally.payment.disputed", 5880, "fraudulent"),
            ("tally.payment.refunded", 250, "refunded"),
        ]
        return found

    found = await eventually(announced)
    refunded_at = [datetime.fromtimestamp(refund.created, UTC) for refund in (first, second)]
    assert [found[0][3], found[2][3]] == refunded_at  # Stripe's moments, not when the webhook was handled
    assert found[1][3] == datetime.fromtimestamp(1764748800, UTC)  # the dispute's `created`


def stripe_invoice_event(event_id: str, kind: str, invoice_id: str, attempt: int) -> bytes:
    """An invoice Stripe collects (as after an import), shaped like Stripe's, naming ours in its metadata."""
    invoice = {
        "id": f"in_{event_id}",
        "object": "invoice",
        "status": "paid" if kind == "invoice.paid" else "open",
        "attempt_count": attempt,
        "payment_intent": f"pi_{event_id}",
        "metadata": {"tally_invoice_id": invoice_id},
    }
    return json.dumps({"id": event_id, "object": "event", "type": kind, "data": {"object": invoice}}).encode()


@pytest.mark.usefixtures("billing_worker")
async def test_invoices_stripe_collects_follow_its_webhooks_whatever_their_order(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    meter, _ = await kit.count_meter()
    acme = await kit.customer()
    sub = await kit.created("/v1/subscriptions", {"customer_id": acme["id"], "plan_key": await kit.plan(meter)})
    [invoice] = (await kit.api.get("/v1/invoices", params={"customer_id": acme["id"]})).json()["data"]
    assert (await kit.api.post(f"/v1/invoices/{invoice['id']}/finalize")).status_code == 200
    policy, now, run = billing_settings.dunning_policy(), datetime.now(UTC), invoice["id"][-8:]
    deliveries = [
        stripe_invoice_event(f"evt_fail_{run}", "invoice.payment_failed", invoice["id"], 1),
        stripe_invoice_event(f"evt_paid_{run}", "invoice.paid", invoice["id"], 2),
        stripe_invoice_event(f"evt_late_{run}", "invoice.payment_failed", invoice["id"], 1),  # out of order
    ]
    for body in deliveries:
        headers = signed_headers(body, local_stripe.webhook_secret)
        assert (await kit.api.post("/v1/webhooks/stripe", content=body, headers=headers)).status_code == 200
        await webhooks.handle_inbox(kit.sessions, api, policy, now)
        if body is deliveries[0]:
            assert (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()["status"] == "past_due"

    assert (await kit.api.get(f"/v1/invoices/{invoice['id']}")).json()["status"] == "paid"
    assert (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()["status"] == "active"

    async def announced() -> None:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        events = [json.loads(r.value) for r in records if r.key == acme["id"].encode()]
        assert [(e["type"], e["data"]["attempt"]) for e in events if e["type"].startswith("tally.payment.")] == [
            ("tally.payment.failed", 1),
            ("tally.payment.succeeded", 2),
        ]

    await eventually(announced)


async def stripe_subscription(local_stripe: LocalStripe) -> tuple[stripe.StripeClient, str]:
    client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
    product = await client.v1.products.create_async({"name": "Legacy"})
    plan = await client.v1.plans.create_async(
        {"amount": 4900, "currency": "usd", "interval": "month", "product": product.id}  # type: ignore[typeddict-item]
    )
    method = await card(local_stripe, GOOD_CARD)
    params: Any = {
        "name": "Legacy Co",
        "payment_method": method,
        "invoice_settings": {"default_payment_method": method},
    }
    customer = await client.v1.customers.create_async(params)
    created: Any = {"customer": customer.id, "items": [{"plan": plan.id}]}
    return client, str((await client.v1.subscriptions.create_async(created)).id)


@pytest.mark.parametrize("tally_billed_a_period", [False, True])
async def test_an_imported_subscription_follows_stripe_until_tally_takes_over(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings, tally_billed_a_period: bool
) -> None:
    meter, _ = await kit.count_meter()
    acme = await kit.customer()
    body = {"customer_id": acme["id"], "plan_key": await kit.plan(meter)}
    if tally_billed_a_period:
        body["start_date"] = (datetime.now(UTC) - timedelta(days=40)).date().isoformat()
    sub = await kit.created("/v1/subscriptions", body)
    await closing.close_due(kit.sessions, datetime.now(UTC))
    client, stripe_id = await stripe_subscription(local_stripe)
    async with kit.sessions() as session, session.begin():  # as an import leaves it
        run = StripeImport(id=f"imp_{stripe_id}", status="succeeded", counts={}, skipped=[])
        session.add(run)
        await session.flush()
        session.add(ImportedObject(kind="subscription", stripe_id=stripe_id, tally_id=sub["id"], import_id=run.id))
    policy, now = billing_settings.dunning_policy(), datetime.now(UTC)

    async def deliver(event_id: str, kind: str) -> None:
        body = json.dumps({"id": event_id, "type": kind, "data": {"object": {"id": stripe_id}}}).encode()
        headers = signed_headers(body, local_stripe.webhook_secret)
        assert (await kit.api.post("/v1/webhooks/stripe", content=body, headers=headers)).status_code == 200
        await webhooks.handle_inbox(kit.sessions, api, policy, now)

    await deliver(f"evt_same_{stripe_id}", "customer.subscription.updated")  # nothing changed in Stripe
    assert (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()["status"] == "active"
    await client.v1.subscriptions.cancel_async(stripe_id)
    await deliver(f"evt_gone_{stripe_id}", "customer.subscription.deleted")

    after = (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()
    if tally_billed_a_period:  # Tally bills it now: cancelling in Stripe is how Stripe's billing is ended
        assert (after["status"], after["ended_at"]) == ("active", None)
    else:
        assert (after["status"], after["ended_at"] is not None) == ("canceled", True)


async def test_a_webhook_body_larger_than_any_stripe_event_is_refused_unread(
    kit: Any, local_stripe: LocalStripe
) -> None:
    body = json.dumps({"id": "evt_huge", "type": "customer.updated", "padding": "x" * webhooks.MAX_BODY_BYTES}).encode()
    refused = await kit.api.post(
        "/v1/webhooks/stripe", content=body, headers=signed_headers(body, local_stripe.webhook_secret)
    )
    assert refused.status_code == 413
    assert refused.headers["content-type"] == "application/problem+json"
    async with kit.sessions() as session:
        assert await session.get(StripeEvent, "evt_huge") is None


@pytest.mark.usefixtures("billing_worker")
async def test_a_payer_who_changes_their_details_in_stripe_is_followed_here(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    """As after an edit in Stripe's customer portal: name, email and card follow; an email Stripe kept but that is
    no address is left as it was."""
    acme, _ = await finalized_invoice(kit, local_stripe, GOOD_CARD)
    async with kit.sessions() as session:
        payer = await session.get(StripeCustomer, acme["id"])
        assert payer is not None
    secret, policy, now = local_stripe.webhook_secret, billing_settings.dunning_policy(), datetime.now(UTC)
    for n, details in enumerate(
        (
            {
                "name": "Acme Renamed",
                "email": "ap@renamed.example",
                "invoice_settings": {"default_payment_method": "pm_new"},
            },
            {"name": "Acme Again", "email": "not an address"},
        )
    ):
        event = {
            "id": f"evt_cu_{n}_{acme['id']}",
            "type": "customer.updated",
            "data": {"object": {"id": payer.stripe_customer_id, **details}},
        }
        raw = json.dumps(event).encode()
        assert (await kit.api.post("/v1/webhooks/stripe", content=raw, headers=signed_headers(raw, secret))).is_success
        await webhooks.handle_inbox(kit.sessions, api, policy, now)
        async with kit.sessions() as session:
            handled = await session.get(StripeEvent, event["id"])
            assert handled is not None and handled.outcome is not None and handled.outcome.startswith("updated")

    customer = (await kit.api.get(f"/v1/customers/{acme['id']}")).json()
    assert (customer["name"], customer["email"]) == ("Acme Again", "ap@renamed.example")
    async with kit.sessions() as session:
        payer = await session.get(StripeCustomer, acme["id"])
        assert payer is not None and payer.payment_method_id == "pm_new"

    async def announced() -> None:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        names = [
            json.loads(r.value)["data"]["name"]
            for r in records
            if r.key == acme["id"].encode() and json.loads(r.value)["type"] == "tally.customer.updated"
        ]
        assert names[-2:] == ["Acme Renamed", "Acme Again"]

    await eventually(announced)


async def test_a_customer_gone_from_stripe_is_made_again_when_a_card_comes(kit: Any, local_stripe: LocalStripe) -> None:
    acme = await kit.customer()
    path = f"/v1/customers/{acme['id']}/payment-method"
    first = await kit.api.post(path, json={"payment_method": await card(local_stripe, GOOD_CARD)})
    assert first.status_code == 200, first.text
    async with kit.sessions() as session, session.begin():  # as after Stripe's customer was deleted, or a new Stripe
        payer = await session.get(StripeCustomer, acme["id"])
        payer.stripe_customer_id = "cus_gone000000000"

    again = await kit.api.post(path, json={"payment_method": await card(local_stripe, GOOD_CARD)})

    assert again.status_code == 200, again.text
    made = again.json()["stripe_customer_id"]
    assert made not in {"cus_gone000000000", first.json()["stripe_customer_id"]}
    client = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base})
    found = await client.v1.customers.retrieve_async(made)
    assert found.metadata["tally_customer_id"] == acme["id"]


async def test_a_payment_method_stripe_refuses_is_a_422_naming_it(kit: Any, local_stripe: LocalStripe) -> None:
    acme = await kit.customer()
    refused = await kit.api.post(
        f"/v1/customers/{acme['id']}/payment-method", json={"payment_method": "pm_nosuchmethod0000"}
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert [error["field"] for error in refused.json()["errors"]] == ["payment_method"]


async def test_a_customer_edited_here_is_pushed_to_its_stripe_twin_and_stripes_edits_do_not_come_back(
    kit: Any, local_stripe: LocalStripe, api: StripeApi, billing_settings: BillingSettings
) -> None:
    acme = await kit.customer()
    attached = await kit.api.post(
        f"/v1/customers/{acme['id']}/payment-method", json={"payment_method": await card(local_stripe, GOOD_CARD)}
    )
    assert attached.status_code == 200, attached.text
    twin = stripe.StripeClient(local_stripe.api_key, base_addresses={"api": local_stripe.api_base}).v1.customers
    stripe_id = attached.json()["stripe_customer_id"]

    async def in_step() -> bool:
        async with kit.sessions() as session:
            payer = await session.get(StripeCustomer, acme["id"])
            customer = await session.get(Customer, acme["id"])
            assert payer is not None and customer is not None
            return payer.details_pushed_at == customer.updated_at

    assert await in_step()  # made in Stripe with the details it has
    edit = {"name": "Acme Pushed", "email": "ap@pushed.example"}
    assert (await kit.api.patch(f"/v1/customers/{acme['id']}", json=edit)).status_code == 200
    assert not await in_step()
    await push_details(kit.sessions, api)
    pushed = await twin.retrieve_async(stripe_id)
    assert (pushed.name, pushed.email) == ("Acme Pushed", "ap@pushed.example")
    assert await in_step()

    # An edit here not pushed yet, then one in Stripe's portal: both end up in both places.
    assert (await kit.api.patch(f"/v1/customers/{acme['id']}", json={"name": "Acme Here"})).status_code == 200
    event = {
        "id": f"evt_cu_push_{acme['id']}",
        "type": "customer.updated",
        "data": {"object": {"id": stripe_id, "name": "Acme Here", "email": "ap@portal.example"}},
    }
    raw = json.dumps(event).encode()
    headers = signed_headers(raw, local_stripe.webhook_secret)
    assert (await kit.api.post("/v1/webhooks/stripe", content=raw, headers=headers)).is_success
    await webhooks.handle_inbox(kit.sessions, api, billing_settings.dunning_policy(), datetime.now(UTC))
    assert not await in_step()  # the name edited here is still to go
    await push_details(kit.sessions, api)
    assert await in_step()
    pushed = await twin.retrieve_async(stripe_id)
    assert (pushed.name, pushed.email) == ("Acme Here", "ap@portal.example")

    # Stripe's own edit, with nothing of ours pending: applied here and marked as Stripe's, so not pushed back.
    event["id"], event["data"]["object"]["name"] = f"evt_cu_push2_{acme['id']}", "Acme From Stripe"
    raw = json.dumps(event).encode()
    headers = signed_headers(raw, local_stripe.webhook_secret)
    assert (await kit.api.post("/v1/webhooks/stripe", content=raw, headers=headers)).is_success
    await webhooks.handle_inbox(kit.sessions, api, billing_settings.dunning_policy(), datetime.now(UTC))
    assert (await kit.api.get(f"/v1/customers/{acme['id']}")).json()["name"] == "Acme From Stripe"
    assert await in_step()
