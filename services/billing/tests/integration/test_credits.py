"""Credits on the real Postgres: typed prepaid grants spent first to expire first, a monetary balance, and every
change announced on billing.events.v1."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any
from uuid import uuid4

import httpx
import pytest
from billing.config import BillingSettings
from billing.credits import service
from contracts import EVENT_TYPES, decode_event
from contracts.topics import BILLING_EVENTS
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from tally_stack.testing import consume_all, eventually

AT = datetime(2026, 10, 15, tzinfo=UTC)
DAY = timedelta(days=1)
Sessions = async_sessionmaker[AsyncSession]


def unique(name: str) -> str:
    return f"{name}_{uuid4().hex[:10]}"


@pytest.fixture
def sessions(billing_sessions: Sessions) -> Sessions:
    """Sessions as the invoice builder has them: the conftest's, on the schema the api fixture migrated."""
    return billing_sessions


async def customer(api: httpx.AsyncClient) -> dict[str, Any]:
    body = {"external_id": unique("acme"), "name": "Acme Pizza", "currency": "usd"}
    response = await api.post("/v1/customers", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def meter(api: httpx.AsyncClient) -> str:
    key = unique("campaign_credits")
    response = await api.post("/v1/meters", json={"key": key, "event_type": unique("campaign"), "aggregation": "count"})
    assert response.status_code == 201, response.text
    return key


async def grant(api: httpx.AsyncClient, customer_ref: str, meter_key: str, **fields: Any) -> dict[str, Any]:
    body = {"credit_type": "sms_campaigns", "meter": meter_key, "quantity": "100", "unit_cost_minor": "2"} | fields
    response = await api.post(f"/v1/customers/{customer_ref}/credit-grants", json=body)
    assert response.status_code == 201, response.text
    return dict(response.json())


async def credits(api: httpx.AsyncClient, customer_ref: str) -> dict[str, Any]:
    response = await api.get(f"/v1/customers/{customer_ref}/credits")
    assert response.status_code == 200, response.text
    return dict(response.json())


async def consume(sessions: Sessions, customer_id: str, meter_key: str, quantity: str, **options: Any) -> Decimal:
    async with sessions() as session, session.begin():
        at = options.pop("at", AT)
        invoice_id = options.pop("invoice_id", unique("inv"))
        return await service.consume_units(
            session, customer_id, meter_key, Decimal(quantity), at, invoice_id, **options
        )


async def apply(sessions: Sessions, customer_id: str, amount_minor: int, *, preview: bool = False) -> int:
    async with sessions() as session, session.begin():
        return await service.apply_balance(session, customer_id, amount_minor, unique("inv"), preview=preview)


async def test_a_grant_reads_back_with_its_cost_and_balance(billing_api: httpx.AsyncClient) -> None:
    acme, campaigns = await customer(billing_api), await meter(billing_api)
    expires = (datetime.now(UTC) + 365 * DAY).replace(microsecond=0)
    fields = {"quantity": "500", "unit_cost_minor": "2.5", "expires_at": expires.isoformat(), "description": "SMS pack"}
    created = await grant(billing_api, acme["external_id"], campaigns, **fields)
    assert created["id"].startswith("crg_")
    assert (created["customer_id"], created["meter"], created["credit_type"]) == (
        acme["id"],
        campaigns,
        "sms_campaigns",
    )
    assert (created["quantity"], created["remaining"], created["unit_cost_minor"]) == ("500", "500", "2.5")
    assert (created["amount_minor"], created["currency"], created["expired"]) == (1250, "USD", False)
    assert datetime.fromisoformat(created["expires_at"]) == expires
    free = await grant(billing_api, acme["id"], campaigns, quantity="0.5", unit_cost_minor="0")
    assert free["expires_at"] is None and free["amount_minor"] == 0

    view = await credits(billing_api, acme["id"])
    assert view == await credits(billing_api, acme["external_id"])
    assert view["balances"] == [
        {"credit_type": "sms_campaigns", "meter": campaigns, "remaining": "500.5", "next_expiry": created["expires_at"]}
    ]
    assert [g["id"] for g in view["grants"]] == [free["id"], created["id"]], "newest first"
    assert view["grants"][1] == created
    assert (view["consumption"], view["monetary_balance_minor"], view["currency"]) == ([], 0, "USD")


async def test_bad_input_is_a_422_naming_each_field_and_changes_nothing(billing_api: httpx.AsyncClient) -> None:
    acme, campaigns = await customer(billing_api), await meter(billing_api)
    path = f"/v1/customers/{acme['id']}/credit-grants"
    good = {"credit_type": "sms_campaigns", "meter": campaigns, "quantity": "10", "unit_cost_minor": "1"}
    cases = [
        ({"quantity": 10.5}, "body.quantity"),
        ({"quantity": "0"}, "body.quantity"),
        ({"quantity": "-3"}, "body.quantity"),
        ({"quantity": "lots"}, "body.quantity"),
        ({"unit_cost_minor": "-0.01"}, "body.unit_cost_minor"),
        ({"unit_cost_minor": 0.1}, "body.unit_cost_minor"),
        ({"credit_type": "SMS Campaigns"}, "body.credit_type"),
        ({"meter": unique("ghost")}, "body.meter"),
        ({"purchased_at": "2026-11-01T00:00:00Z", "expires_at": "2026-11-01T00:00:00Z"}, "body.expires_at"),
        ({"expires_at": "2020-01-01T00:00:00Z"}, "body.expires_at"),
        ({"surprise": True}, "body.surprise"),
    ]
    for change, field in cases:
        response = await billing_api.post(path, json=good | change)
        assert response.status_code == 422, (change, response.text)
        assert response.headers["content-type"] == "application/problem+json"
        errors = response.json()["errors"]
        assert field in {error["field"] for error in errors}, (change, errors)
        assert all(error["reason"] for error in errors)
    missing = await billing_api.post(path, json={"meter": campaigns})
    assert {"body.credit_type", "body.quantity", "body.unit_cost_minor"} <= {
        e["field"] for e in missing.json()["errors"]
    }
    unknown = await billing_api.post(f"/v1/customers/{unique('nobody')}/credit-grants", json=good)
    assert (unknown.status_code, unknown.headers["content-type"]) == (404, "application/problem+json")
    assert (await billing_api.get(f"/v1/customers/{unique('nobody')}/credits")).status_code == 404

    adjustments = f"/v1/customers/{acme['id']}/balance-adjustments"
    for body in ({"amount_minor": 0}, {"amount_minor": -1}, {"amount_minor": "12.5"}, {"amount_minor": 1, "x": 1}):
        response = await billing_api.post(adjustments, json=body)
        assert response.status_code == 422, (body, response.text)
        assert {e["field"] for e in response.json()["errors"]} & {"body.amount_minor", "body.x"}, response.text
    view = await credits(billing_api, acme["id"])
    assert (view["grants"], view["balances"], view["balance_transactions"]) == ([], [], [])


async def test_usage_spends_the_first_grant_to_expire_first(billing_api: httpx.AsyncClient, sessions: Sessions) -> None:
    acme, campaigns = await customer(billing_api), await meter(billing_api)
    cus, other_meter = acme["id"], await meter(billing_api)

    def window(bought: int, expires: int | None) -> dict[str, Any]:
        return {
            "purchased_at": (AT + bought * DAY).isoformat(),
            "expires_at": None if expires is None else (AT + expires * DAY).isoformat(),
        }

    forever = await grant(billing_api, cus, campaigns, quantity="50", **window(-40, None))
    late = await grant(billing_api, cus, campaigns, quantity="30", **window(-20, 60))
    soon = await grant(billing_api, cus, campaigns, quantity="20", unit_cost_minor="3", **window(-30, 5))
    expired = await grant(billing_api, cus, campaigns, quantity="1000", **window(-60, -1))
    future = await grant(billing_api, cus, campaigns, quantity="1000", **window(1, None))
    await grant(billing_api, cus, other_meter, quantity="1000", **window(-60, None))

    assert await consume(sessions, cus, campaigns, "45", preview=True) == Decimal(45)
    assert await consume(sessions, cus, campaigns, "0") == Decimal(0)
    assert all(g["remaining"] == g["quantity"] for g in (await credits(billing_api, cus))["grants"]), "preview kept"

    invoice = unique("inv")
    assert await consume(sessions, cus, campaigns, "45", invoice_id=invoice) == Decimal(45)
    remaining = {g["id"]: g["remaining"] for g in (await credits(billing_api, cus))["grants"]}
    assert [remaining[g["id"]] for g in (soon, late, forever, expired, future)] == ["0", "5", "50", "1000", "1000"]
    view = await credits(billing_api, cus)
    assert [(c["grant_id"], c["quantity"], c["amount_minor"], c["invoice_id"]) for c in view["consumption"]] == [
        (late["id"], "25", 50, invoice),
        (soon["id"], "20", 60, invoice),
    ], "latest first"
    assert datetime.fromisoformat(view["consumption"][0]["consumed_at"]) == AT

    assert await consume(sessions, cus, campaigns, "1000") == Decimal(55), "only what the live grants hold"
    assert await consume(sessions, cus, campaigns, "1") == Decimal(0)
    assert await consume(sessions, cus, campaigns, "7", at=AT + 2 * DAY) == Decimal(7), "the future grant, once bought"
    assert await consume(sessions, unique("cus"), campaigns, "7") == Decimal(0)


async def test_two_invoices_at_once_never_spend_the_same_units(
    billing_api: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme, campaigns = await customer(billing_api), await meter(billing_api)
    bought = (AT - 10 * DAY).isoformat()
    first = await grant(billing_api, acme["id"], campaigns, quantity="60", purchased_at=bought)
    await grant(billing_api, acme["id"], campaigns, quantity="40", purchased_at=bought, expires_at=AT.isoformat())
    await grant(billing_api, acme["id"], campaigns, quantity="40", purchased_at=bought)

    async def invoice(quantity: str) -> Decimal:
        async with sessions() as session, session.begin():
            covered = await service.consume_units(session, acme["id"], campaigns, Decimal(quantity), AT, unique("inv"))
            await asyncio.sleep(0.3)  # hold the locks while the other invoice tries
            return covered

    covered = await asyncio.gather(invoice("70"), invoice("70"), invoice("70"))
    assert sorted(covered) == [Decimal(0), Decimal(30), Decimal(70)]
    view = await credits(billing_api, acme["id"])
    assert sum(Decimal(c["quantity"]) for c in view["consumption"]) == Decimal(100)
    assert {g["id"]: g["remaining"] for g in view["grants"]}[first["id"]] == "0"


async def test_the_monetary_balance_is_adjusted_and_applied_to_invoices(
    billing_api: httpx.AsyncClient, sessions: Sessions
) -> None:
    acme = await customer(billing_api)
    path = f"/v1/customers/{acme['external_id']}/balance-adjustments"
    credit = await billing_api.post(path, json={"amount_minor": 5000, "description": "Goodwill"})
    assert credit.status_code == 201, credit.text
    assert credit.json()["id"].startswith("cbt_")
    assert (credit.json()["balance_minor"], credit.json()["currency"], credit.json()["reason"]) == (
        5000,
        "USD",
        "adjustment",
    )
    debit = await billing_api.post(path, json={"amount_minor": -2000})
    assert debit.json()["balance_minor"] == 3000
    too_much = await billing_api.post(path, json={"amount_minor": -3001})
    assert too_much.status_code == 422
    assert too_much.json()["errors"] == [
        {"field": "body.amount_minor", "reason": "would take the balance (3000) below zero"}
    ]

    assert await apply(sessions, acme["id"], 10_000, preview=True) == 3000
    assert await apply(sessions, acme["id"], 0) == 0
    assert await apply(sessions, acme["id"], 1000) == 1000
    assert (await credits(billing_api, acme["id"]))["monetary_balance_minor"] == 2000
    both = await asyncio.gather(apply(sessions, acme["id"], 1500), apply(sessions, acme["id"], 1500))
    assert sorted(both) == [500, 1500]
    assert await apply(sessions, acme["id"], 1) == 0
    view = await credits(billing_api, acme["id"])
    assert view["monetary_balance_minor"] == 0
    changes = [(t["reason"], t["amount_minor"], t["balance_minor"]) for t in view["balance_transactions"]]
    assert changes == [
        ("invoice", -500, 0),
        ("invoice", -1500, 500),
        ("invoice", -1000, 2000),
        ("adjustment", -2000, 3000),
        ("adjustment", 5000, 5000),
    ], "newest first; the second of two invoices at once takes what the first left"
    assert all(t["invoice_id"] for t in view["balance_transactions"] if t["reason"] == "invoice")
    unknown = await billing_api.post(f"/v1/customers/{unique('nobody')}/balance-adjustments", json={"amount_minor": 1})
    assert unknown.status_code == 404


@pytest.mark.usefixtures("billing_worker")
async def test_every_change_is_announced_on_the_billing_topic(
    billing_api: httpx.AsyncClient, billing_settings: BillingSettings, sessions: Sessions
) -> None:
    acme, campaigns = await customer(billing_api), await meter(billing_api)
    bought, expires = AT - DAY, AT + 30 * DAY
    window = {"purchased_at": bought.isoformat(), "expires_at": expires.isoformat()}
    created = await grant(billing_api, acme["id"], campaigns, quantity="500", unit_cost_minor="2.5", **window)
    await billing_api.post(f"/v1/customers/{acme['id']}/balance-adjustments", json={"amount_minor": 700})
    invoice = unique("inv")
    assert await consume(sessions, acme["id"], campaigns, "120", invoice_id=invoice) == Decimal(120)
    assert await apply(sessions, acme["id"], 300) == 300

    async def announced() -> list[Any]:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        mine = [r for r in records if r.key == acme["id"].encode() and b'"tally.credits.' in r.value]
        assert len(mine) == 4
        return [decode_event(r.value, EVENT_TYPES[json.loads(r.value)["type"]].event_cls) for r in mine]

    granted, adjusted, consumed, applied = await eventually(announced)
    assert all(event.subject == acme["id"] for event in (granted, adjusted, consumed, applied))
    assert granted.type == "tally.credits.granted"
    assert granted.data.model_dump(mode="json", exclude={"description"}) == {
        "grant_id": created["id"],
        "customer_id": acme["id"],
        "credit_type": "sms_campaigns",
        "meter": campaigns,
        "quantity": "500",
        "unit_cost_minor": "2.5",
        "amount_minor": 1250,
        "currency": "USD",
        "purchased_at": bought.isoformat().replace("+00:00", "Z"),
        "expires_at": expires.isoformat().replace("+00:00", "Z"),
    }
    assert (adjusted.type, adjusted.data.amount_minor, adjusted.data.balance_minor) == (
        "tally.credits.balance_adjusted",
        700,
        700,
    )
    assert consumed.type == "tally.credits.consumed"
    assert (consumed.data.grant_id, consumed.data.quantity, consumed.data.remaining) == (created["id"], "120", "380")
    assert (consumed.data.amount_minor, consumed.data.invoice_id, consumed.data.meter) == (300, invoice, campaigns)
    assert (applied.data.reason, applied.data.amount_minor, applied.data.balance_minor) == ("invoice", -300, 400)
