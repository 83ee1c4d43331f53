"""Importing subscriptions on tiered and metered prices from a localstripe of this module's own. localstripe has
tiered (graduated, volume) and metered plans, the older API's prices, always with their tiers; it has one item per
subscription only, so several prices on one subscription, and tiers Stripe lists only when expanded, are tested on
recorded payloads (test_stripe_import_recorded.py).

localstripe prices graduated tiers wrongly on its own invoices (8 seats: all 8 at the first tier's price): the
invoices are imported as Stripe made them, the plan's base price as Stripe documents the tiers."""

import time
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import stripe
from billing.catalog import repository as meters
from tally_stack.stripe_local import TEST_API_KEY

GOOD_CARD = "4242424242424242"
DAY = 86_400
# 1-5 at 10.00 each plus a 5.00 fee, then 7.00 each: 8 seats cost 5 x 1000 + 500 + 3 x 700 = 7600 a month.
GRADUATED = [
    {"up_to": 5, "unit_amount": 1000, "flat_amount": 500},
    {"up_to": "inf", "unit_amount": 700, "flat_amount": 0},
]
# Every unit at the tier the quantity falls in: 12 GB cost 12 x 200 + 1000 = 3400 a month.
VOLUME = [
    {"up_to": 10, "unit_amount": 300, "flat_amount": 0},
    {"up_to": "inf", "unit_amount": 200, "flat_amount": 1000},
]


@dataclass(frozen=True)
class Account:
    base: str
    seats: str  # 8 seats on graduated tiers
    seats_too: str  # another customer with 8 seats: the same plan
    storage: str  # 12 GB on volume tiers
    api: str  # API calls, metered, 2 a call
    plans: dict[str, str]  # name -> Stripe plan id


async def _customer(client: stripe.StripeClient, name: str) -> str:
    card: Any = {"number": GOOD_CARD, "exp_month": 12, "exp_year": 2030, "cvc": "123"}
    method = (await client.v1.payment_methods.create_async({"type": "card", "card": card})).id
    params: Any = {"name": name, "payment_method": method, "invoice_settings": {"default_payment_method": method}}
    return str((await client.v1.customers.create_async(params)).id)


@pytest.fixture(scope="module")
async def account(account_base: str) -> Account:
    client = stripe.StripeClient(TEST_API_KEY, base_addresses={"api": account_base})
    plans = {}
    kinds: dict[str, dict[str, Any]] = {
        "seats": {"billing_scheme": "tiered", "tiers_mode": "graduated", "tiers": GRADUATED},
        "storage": {"billing_scheme": "tiered", "tiers_mode": "volume", "tiers": VOLUME},
        "api": {"amount": 2, "usage_type": "metered"},
    }
    for name, terms in kinds.items():
        product = await client.v1.products.create_async({"name": name.capitalize()})
        params: Any = {"currency": "usd", "interval": "month", "product": product.id} | terms
        plans[name] = str((await client.v1.plans.create_async(params)).id)
    customers = {name: await _customer(client, name) for name in ("seats", "seats_too", "storage", "api")}
    started = int(time.time()) - 10 * DAY
    for name, plan, quantity in [
        ("seats", "seats", 8),
        ("seats_too", "seats", 8),
        ("storage", "storage", 12),
        ("api", "api", None),
    ]:
        item: Any = {"plan": plans[plan]} | ({"quantity": quantity} if quantity else {})
        params = {"customer": customers[name], "items": [item], "backdate_start_date": started}
        assert (await client.v1.subscriptions.create_async(params)).status == "active"
    return Account(account_base, **customers, plans=plans)


@pytest.fixture(scope="module")
async def imported(
    imports: Any, billing_api: httpx.AsyncClient, account: Account, billing_worker: None
) -> tuple[dict[str, Any], dict[str, str]]:
    """The first import: (its final status, Stripe customer -> Tally customer id)."""
    result = await imports.run({"api_key": TEST_API_KEY, "api_base": account.base})
    stripe_ids = (account.seats, account.seats_too, account.storage, account.api)
    return result, {cus: (await billing_api.get(f"/v1/customers/{cus}")).json()["id"] for cus in stripe_ids}


async def _plan_of(api: httpx.AsyncClient, customer_id: str) -> dict[str, Any]:
    [sub] = (await api.get("/v1/subscriptions", params={"customer_id": customer_id})).json()["data"]
    assert sub["status"] == "active"
    plan: dict[str, Any] = (await api.get(f"/v1/plans/{sub['plan']['key']}")).json()
    return plan


async def test_tiered_and_metered_prices_become_plans(
    kit: Any, imports: Any, account: Account, imported: tuple[dict[str, Any], dict[str, str]]
) -> None:
    result, ids = imported
    assert (result["status"], result["skipped"]) == ("succeeded", [])
    assert imports.created(result["counts"]) == {
        "customers": 4,
        "meters": 1,
        "plans": 3,  # the two customers with 8 seats share one
        "subscriptions": 4,
        "invoices": 4,
        "payments": 4,
        "refunds": 0,
        "disputes": 0,
    }

    seats = await _plan_of(kit.api, ids[account.seats])
    assert (seats["key"], seats["name"]) == (f"stripe_{account.plans['seats'].lower()}_x8", "Seats x 8")
    assert (seats["base_price_minor"], seats["interval"], seats["charges"]) == (7600, "month", [])
    assert (await _plan_of(kit.api, ids[account.seats_too]))["key"] == seats["key"]
    storage = await _plan_of(kit.api, ids[account.storage])
    assert (storage["base_price_minor"], storage["charges"]) == (3400, [])

    api = await _plan_of(kit.api, ids[account.api])
    meter_key = f"stripe_{account.plans['api'].lower()}"  # localstripe's plans name no Stripe meter: the price does
    assert (api["key"], api["base_price_minor"]) == (meter_key, 0)
    assert [(c["meter"], c["model"], c["unit_price"], c["included_units"]) for c in api["charges"]] == [
        (meter_key, "per_unit", "2", "0")
    ]
    async with kit.sessions() as session:
        [meter] = await meters.meters_by_keys(session, [meter_key])
    assert (meter.event_type, meter.aggregation, meter.property, meter.filters) == (meter_key, "sum", "value", {})

    events = await imports.announced_at_least(list(ids.values()), "tally.payment.succeeded", 4)
    created = {e["subject"]: e["data"]["terms"] for e in events if e["type"] == "tally.subscription.created"}
    assert {cus: (created[ids[cus]]["base_price_minor"], created[ids[cus]]["mrr_minor"]) for cus in ids} == {
        account.seats: (7600, 7600),
        account.seats_too: (7600, 7600),
        account.storage: (3400, 3400),
        account.api: (0, 0),  # usage is not recurring revenue
    }
    invoices = (await kit.api.get("/v1/invoices", params={"customer_id": ids[account.storage]})).json()["data"]
    assert [invoice["total_minor"] for invoice in invoices] == [3400]  # Stripe billed what the plan says


async def test_running_it_again_changes_nothing(
    kit: Any, imports: Any, account: Account, imported: tuple[dict[str, Any], dict[str, str]]
) -> None:
    customers = list(imported[1].values())
    announced = await imports.announced_at_least(customers, "tally.payment.succeeded", 4)
    before = await imports.snapshot(customers)
    plans = {key: (await kit.api.get(f"/v1/plans/{key}")).json() for key in await _keys(kit.api, customers)}

    again = await imports.run({"api_key": TEST_API_KEY, "api_base": account.base})

    assert again["status"] == "succeeded"
    assert set(imports.created(again["counts"]).values()) == {0}
    assert (again["counts"]["customers"]["existing"], again["counts"]["subscriptions"]["existing"]) == (4, 4)
    assert await imports.snapshot(customers) == before
    assert {key: (await kit.api.get(f"/v1/plans/{key}")).json() for key in plans} == plans
    marker = await kit.customer()  # published after anything the second run could have announced
    await imports.announced_at_least([marker["id"]], "tally.customer.created", 1)
    assert len(await imports.announced(customers)) == len(announced)


async def _keys(api: httpx.AsyncClient, customers: list[str]) -> set[str]:
    found = set()
    for customer_id in customers:
        subs = (await api.get("/v1/subscriptions", params={"customer_id": customer_id})).json()["data"]
        found |= {sub["plan"]["key"] for sub in subs}
    return found
