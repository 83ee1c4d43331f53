"""Importing a Stripe account (built in a localstripe of this module's own with the official SDK) through the API:
customers, plans, subscriptions with their history, invoices and payments land in Tally and are announced as a live
system would have announced them; a second run changes nothing; a run after Stripe moved on brings that over; bad
input is refused and a wrong key fails the run with a clear reason."""

import asyncio
import json
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import stripe
from billing.config import BillingSettings
from billing.imports.models import StripeImport
from billing.invoices import closing
from billing.payment import collection
from billing.payment.models import StripeCustomer
from billing.payment.stripe_api import StripeApi
from pydantic import SecretStr
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_stack.procs import free_port
from tally_stack.stripe_local import TEST_API_KEY

GOOD_CARD, DECLINED_CARD = "4242424242424242", "4000000000000341"
DAY = 86_400


@dataclass(frozen=True)
class Account:
    base: str
    client: stripe.StripeClient
    ada: str  # active on Pro (monthly), started 40 days ago, paid; imported under her own external id
    bob: str  # on Team (yearly) from 100 days ago, canceled now
    cy: str  # on a quarterly plan: Tally has no such interval
    eve: str  # her card was declined: an incomplete subscription and an open invoice
    tia: str  # made in Stripe by Tally's own collection for a Tally customer (tia_id), then subscribed there
    tia_id: str
    ada_external_id: str
    started: dict[str, int]  # Stripe customer -> the subscription's start (unix seconds)
    open_invoice: str


async def _card(client: stripe.StripeClient, number: str) -> str:
    card = {"number": number, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    return str((await client.v1.payment_methods.create_async({"type": "card", "card": card})).id)


async def _customer(client: stripe.StripeClient, name: str, number: str, **extra: Any) -> str:
    method = await _card(client, number)
    params: Any = {"name": name, "email": f"{name.lower()}@example.com", "payment_method": method}
    params["invoice_settings"] = {"default_payment_method": method}
    return str((await client.v1.customers.create_async(params | extra)).id)


async def _subscribe(client: stripe.StripeClient, customer: str, plan: str, start: int) -> str:
    params: Any = {"customer": customer, "items": [{"plan": plan}], "backdate_start_date": start}
    return str((await client.v1.subscriptions.create_async(params)).id)


@pytest.fixture(scope="module")
async def account(account_base: str, billing_api: httpx.AsyncClient) -> Account:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": account_base})
    pro = await client.v1.products.create_async({"name": "Pro"})
    team = await client.v1.products.create_async({"name": "Team"})
    monthly = {"currency": "usd", "interval": "month"}
    pro_plan = await client.v1.plans.create_async({"amount": 2900, "product": pro.id, **monthly})  # type: ignore[typeddict-item]
    team_plan = await client.v1.plans.create_async(
        {"amount": 120000, "currency": "usd", "interval": "year", "product": team.id}
    )
    quarterly = await client.v1.plans.create_async(
        {"amount": 7500, "product": pro.id, "interval_count": 3, **monthly}  # type: ignore[typeddict-item]
    )
    now = int(time.time())
    external = f"ada-{now}"
    ada = await _customer(client, "Ada", GOOD_CARD, metadata={"tally_external_id": external})
    bob = await _customer(client, "Bob", GOOD_CARD)
    cy = await _customer(client, "Cy", GOOD_CARD)
    eve = await _customer(client, "Eve", DECLINED_CARD)
    tally_tia = {"external_id": f"tia-{now}", "name": "Tia", "currency": "USD"}
    tia_id = (await billing_api.post("/v1/customers", json=tally_tia)).json()["id"]
    tallys_stripe = StripeApi(SecretStr(TEST_API_KEY), account_base)  # as Tally's collection makes its payers
    tia = await tallys_stripe.create_customer(tia_id, "Tia", None)
    await tallys_stripe.attach_payment_method(tia, await _card(client, GOOD_CARD))
    started = {ada: now - 40 * DAY, bob: now - 100 * DAY, cy: now - 10 * DAY, eve: now - 5 * DAY, tia: now - DAY}
    await _subscribe(client, tia, pro_plan.id, started[tia])
    await _subscribe(client, ada, pro_plan.id, started[ada])
    bobs = await _subscribe(client, bob, team_plan.id, started[bob])
    await _subscribe(client, cy, quarterly.id, started[cy])
    await _subscribe(client, eve, pro_plan.id, started[eve])
    await client.v1.subscriptions.cancel_async(bobs)
    [open_invoice] = (await client.v1.invoices.list_async({"customer": eve})).data
    assert open_invoice.status == "open"
    return Account(account_base, client, ada, bob, cy, eve, tia, tia_id, external, started, str(open_invoice.id))


@pytest.fixture(scope="module")
async def imported(
    imports: Any, billing_api: httpx.AsyncClient, account: Account, billing_worker: None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The first import of the account: (its final status, Stripe customer -> Tally customer id)."""
    result = await imports.run({"api_key": TEST_API_KEY, "api_base": account.base})
    refs = {account.ada: account.ada_external_id, account.bob: account.bob, account.cy: account.cy}
    refs |= {account.eve: account.eve, account.tia: account.tia_id}
    ids = {stripe_id: (await billing_api.get(f"/v1/customers/{ref}")).json()["id"] for stripe_id, ref in refs.items()}
    return result, ids


async def test_an_account_is_imported_with_its_history(
    kit: Any, imports: Any, account: Account, imported: tuple[dict[str, Any], dict[str, str]]
) -> None:
    result, ids = imported
    assert (result["status"], result["error"], result["livemode"]) == ("succeeded", None, False)
    assert imports.created(result["counts"]) == {
        "customers": 4,
        "meters": 0,
        "plans": 2,
        "subscriptions": 3,
        "invoices": 5,  # eve's open one too, and cy's: his subscription was skipped, its invoice is revenue still
        "payments": 4,
        "refunds": 0,
        "disputes": 0,
    }
    assert result["counts"]["customers"]["linked"] == 1  # Tia: Tally made her in Stripe (her id in its metadata)
    reasons = sorted(item["reason"] for item in result["skipped"])
    assert reasons == [
        "billed every 3 month: Tally plans are monthly or yearly",
        "incomplete (its first payment never went through)",
    ]

    ada = (await kit.api.get(f"/v1/customers/{account.ada_external_id}")).json()
    assert (ada["name"], ada["email"], ada["currency"]) == ("Ada", "ada@example.com", "USD")
    assert ada["metadata"]["stripe_customer_id"] == account.ada
    [sub] = (await kit.api.get("/v1/subscriptions", params={"customer_id": ada["id"]})).json()["data"]
    start = datetime.fromtimestamp(account.started[account.ada], UTC)
    assert (sub["status"], datetime.fromisoformat(sub["started_at"])) == ("active", start)
    assert datetime.fromisoformat(sub["current_period_end"]) > datetime.now(UTC)  # Stripe's period is over: rolled on
    plan = (await kit.api.get(f"/v1/plans/{sub['plan']['key']}")).json()
    assert (plan["name"], plan["base_price_minor"], plan["interval"], plan["currency"]) == ("Pro", 2900, "month", "USD")
    [invoice] = (await kit.api.get("/v1/invoices", params={"customer_id": ada["id"]})).json()["data"]
    assert (invoice["status"], invoice["total_minor"], invoice["subscription_id"]) == ("paid", 2900, sub["id"])
    assert invoice["number"].startswith("in_")  # localstripe numbers no invoice: the Stripe id stands in
    assert [(line["kind"], line["amount_minor"]) for line in invoice["lines"]] == [("base_fee", 2900)]

    [bobs] = (await kit.api.get("/v1/subscriptions", params={"customer_id": ids[account.bob]})).json()["data"]
    assert (bobs["status"], bobs["plan"]["key"].startswith("stripe_plan_")) == ("canceled", True)
    assert bobs["ended_at"] is not None

    eves = (await kit.api.get("/v1/invoices", params={"customer_id": ids[account.eve]})).json()["data"]
    assert [(i["status"], i["subscription_id"]) for i in eves] == [("finalized", None)]
    paying = (await kit.api.get(f"/v1/invoices/{eves[0]['id']}/payment")).json()
    assert paying["status"] == "external"  # Stripe collects it: Tally's payment run leaves it alone
    [tias] = (await kit.api.get("/v1/subscriptions", params={"customer_id": account.tia_id})).json()["data"]
    assert tias["status"] == "active"
    async with kit.sessions() as session:  # who pays in Stripe, for Tally's own collection from now on
        payers = {c: await session.get(StripeCustomer, ids[c]) for c in (account.ada, account.tia)}
    assert payers[account.ada] is not None and payers[account.ada].stripe_customer_id == account.ada
    assert payers[account.ada].payment_method_id is not None
    assert payers[account.tia] is not None and payers[account.tia].stripe_customer_id == account.tia
    assert all(payer.details_pushed_at is not None for payer in payers.values())  # Stripe has the details imported

    events = await imports.announced_at_least(list(ids.values()), "tally.payment.succeeded", 4)
    lifecycle = [
        "tally.customer.created",
        "tally.subscription.created",
        "tally.invoice.finalized",
        "tally.invoice.paid",
        "tally.payment.succeeded",
    ]
    assert [e["type"] for e in events if e["subject"] == ada["id"]] == lifecycle
    assert [e["type"] for e in events if e["subject"] == account.tia_id] == lifecycle  # her creation: Tally's API
    assert [e["type"] for e in events if e["subject"] == ids[account.bob]][-1] == "tally.subscription.canceled"
    bob_start = datetime.fromtimestamp(account.started[account.bob], UTC)
    assert imports.mrr_at(events, bob_start - timedelta(seconds=1)) == 0
    assert imports.mrr_at(events, start - timedelta(seconds=1)) == 10000  # Team: 120000 a year
    assert imports.mrr_at(events, datetime.now(UTC) - timedelta(hours=2)) == 15800  # and Tia's, since yesterday
    assert imports.mrr_at(events, datetime.now(UTC) + timedelta(minutes=5)) == 5800  # Bob canceled just now


async def test_a_second_run_changes_nothing(
    imports: Any, account: Account, imported: tuple[dict[str, Any], dict[str, str]]
) -> None:
    customers = list(imported[1].values())
    events = await imports.announced_at_least(customers, "tally.payment.succeeded", 4)
    before = await imports.snapshot(customers)

    again = await imports.run({"api_key": TEST_API_KEY, "api_base": account.base})

    assert again["status"] == "succeeded"
    assert set(imports.created(again["counts"]).values()) == {0}
    assert (again["counts"]["customers"]["existing"], again["counts"]["invoices"]["existing"]) == (5, 5)
    assert await imports.snapshot(customers) == before
    await asyncio.sleep(1.5)  # the relay publishes within half a second: anything new would be there
    assert len(await imports.announced(customers)) == len(events)


async def test_the_worker_bills_imported_subscriptions_from_now_on_only(
    kit: Any,
    imports: Any,
    account: Account,
    imported: tuple[dict[str, Any], dict[str, str]],
    billing_settings: BillingSettings,
) -> None:
    customers, ada = list(imported[1].values()), imported[1][account.ada]
    assert billing_settings.stripe_api_key is not None
    api = StripeApi(billing_settings.stripe_api_key, billing_settings.stripe_api_base)
    before = await imports.snapshot(customers)

    await closing.close_due(kit.sessions, datetime.now(UTC))
    await collection.run(kit.sessions, api, billing_settings.dunning_policy(), datetime.now(UTC))

    assert await imports.snapshot(customers) == before  # no past period billed again, no open invoice charged
    [sub] = (await kit.api.get("/v1/subscriptions", params={"customer_id": ada})).json()["data"]
    await closing.close_due(kit.sessions, datetime.fromisoformat(sub["current_period_end"]))
    invoices = (await kit.api.get("/v1/invoices", params={"customer_id": ada})).json()["data"]
    assert len(invoices) == 2
    assert (invoices[0]["period_start"], invoices[0]["period_end"]) == (
        sub["current_period_start"],
        sub["current_period_end"],
    )
    fee = [line for line in invoices[0]["lines"] if line["kind"] == "base_fee"]
    assert [line["period_start"] for line in fee] == [sub["current_period_end"]]  # the next period, in advance


async def test_a_run_after_stripe_moved_on_brings_it_over(
    kit: Any, imports: Any, account: Account, imported: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, ids = imported
    method = await _card(account.client, GOOD_CARD)
    await account.client.v1.payment_methods.attach_async(method, {"customer": account.eve})
    await account.client.v1.customers.update_async(
        account.eve, {"invoice_settings": {"default_payment_method": method}}
    )
    assert (await account.client.v1.invoices.pay_async(account.open_invoice)).status == "paid"

    again = await imports.run({"api_key": TEST_API_KEY, "api_base": account.base})

    assert again["status"] == "succeeded"
    assert (again["counts"]["invoices"]["updated"], again["counts"]["payments"]["created"]) == (1, 1)
    [invoice] = (await kit.api.get("/v1/invoices", params={"customer_id": ids[account.eve]})).json()["data"]
    assert invoice["status"] == "paid"
    events = await imports.announced_at_least([ids[account.eve]], "tally.payment.succeeded", 1)
    assert [e["type"] for e in events][-2:] == ["tally.invoice.paid", "tally.payment.succeeded"]


async def test_bad_input_is_refused(billing_api: httpx.AsyncClient) -> None:
    missing = await billing_api.post("/v1/imports/stripe", json={})
    assert missing.status_code == 422
    assert missing.json()["errors"][0]["field"] == "body.api_key"
    publishable = await billing_api.post("/v1/imports/stripe", json={"api_key": "pk_test_123456789"})
    assert publishable.status_code == 422
    assert "pk_test_123456789" not in publishable.text
    assert "secret key (sk_...) or restricted key (rk_...)" in publishable.json()["errors"][0]["reason"]
    assert (await billing_api.get("/v1/imports/imp_unknown")).status_code == 404


async def test_a_wrong_key_fails_the_run_with_the_reason(imports: Any, account_base: str) -> None:
    wrong = "rk_test_not_a_key_of_this_account"  # localstripe takes any sk_ key and refuses others, as Stripe would

    result = await imports.run({"api_key": wrong, "api_base": account_base})

    assert result["status"] == "failed"
    assert "refused the API key (HTTP 401)" in result["error"]
    assert wrong not in json.dumps(result)
    assert set(imports.created(result["counts"]).values()) == {0}
    nowhere = f"http://127.0.0.1:{free_port()}"
    unreachable = await imports.run({"api_key": TEST_API_KEY, "api_base": nowhere})
    assert (unreachable["status"], unreachable["error"]) == (
        "failed",
        f"could not reach Stripe at {nowhere}: the connection failed or timed out, retries too",
    )


async def test_an_import_whose_process_stopped_is_reported_failed(
    billing_api: httpx.AsyncClient, billing_sessions: async_sessionmaker[AsyncSession]
) -> None:
    long_ago = datetime.now(UTC) - timedelta(minutes=10)
    stale_id = f"imp_stale{int(time.time() * 1000)}"
    async with billing_sessions() as session, session.begin():
        session.add(
            StripeImport(
                id=stale_id,
                status="running",
                counts={},
                skipped=[],
                created_at=long_ago,
                started_at=long_ago,
                heartbeat_at=long_ago,
            )
        )

    found = (await billing_api.get(f"/v1/imports/{stale_id}")).json()

    assert (found["status"], found["error"][:12]) == ("failed", "interrupted:")


async def test_one_import_runs_at_a_time(
    billing_api: httpx.AsyncClient, billing_sessions: async_sessionmaker[AsyncSession]
) -> None:
    now = datetime.now(UTC)
    running = StripeImport(
        id=f"imp_running{int(time.time() * 1000)}", status="running", counts={}, skipped=[], heartbeat_at=now
    )
    async with billing_sessions() as session, session.begin():
        session.add(running)
    try:
        refused = await billing_api.post("/v1/imports/stripe", json={"api_key": TEST_API_KEY})
        assert refused.status_code == 409
        assert running.id in refused.json()["detail"]
    finally:
        async with billing_sessions() as session, session.begin():
            (await session.get(StripeImport, running.id)).status = "failed"  # type: ignore[union-attr]
