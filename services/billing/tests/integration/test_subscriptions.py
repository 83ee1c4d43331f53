"""Subscriptions on the real Postgres: periods from the anchor in UTC with clamped month ends, trials, imports that
invoice every closed period, plan changes with proration, cancellation, and the refusals that change nothing."""

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from billing.config import BillingSettings
from billing.invoices import closing, service
from billing.rating.periods import Period
from billing.rating.proration import prorated_minor
from contracts.topics import BILLING_EVENTS
from sqlalchemy import text
from tally_stack.testing import consume_all, eventually


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


async def subscribe(api: httpx.AsyncClient, **body: Any) -> dict[str, Any]:
    response = await api.post("/v1/subscriptions", json=body)
    assert response.status_code == 201, response.text
    result: dict[str, Any] = response.json()
    return result


async def invoices_of(api: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    response = await api.get("/v1/invoices", params={"customer_id": customer_id, "limit": 200})
    assert response.status_code == 200, response.text
    return sorted(response.json()["data"], key=lambda invoice: (invoice["period_start"], invoice["created_at"]))


async def test_an_import_invoices_every_closed_period_with_month_ends_clamped(kit: Any) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter)
    acme = await kit.customer(tax_rate="0.2")
    sub = await subscribe(kit.api, customer_id=acme["external_id"], plan_key=plan, start_date="2026-01-31")
    assert (sub["status"], sub["current_period_start"], sub["current_period_end"]) == (
        "active",
        "2026-01-31T00:00:00Z",
        "2026-02-28T00:00:00Z",
    )
    # 8 calls in February's period (5 included, 3 at 10), one just before its end, one just after (March's).
    february = [at("2026-02-01T10:00")] * 7 + [at("2026-02-27T23:59:59")]
    await kit.record(acme["external_id"], event_type, [*february, at("2026-02-28T00:00")])

    await closing.close_due(kit.sessions, at("2026-04-01"))

    first, second, third = await invoices_of(kit.api, acme["id"])
    assert [(i["period_start"][:10], i["period_end"][:10]) for i in (second, third)] == [
        ("2026-01-31", "2026-02-28"),
        ("2026-02-28", "2026-03-31"),
    ]
    assert first["lines"] == [
        {
            "kind": "base_fee",
            "description": "Starter (2026-01-31 to 2026-02-28)",
            "meter": None,
            "group": None,
            "quantity": None,
            "amount_minor": 4900,
            "period_start": "2026-01-31T00:00:00Z",
            "period_end": "2026-02-28T00:00:00Z",
        }
    ]
    assert (first["subtotal_minor"], first["tax_minor"], first["total_minor"]) == (4900, 980, 5880)
    usage, fee = second["lines"]
    assert (usage["kind"], usage["quantity"], usage["amount_minor"]) == ("usage", "8", 30)
    assert (fee["kind"], fee["amount_minor"], fee["period_start"], fee["period_end"]) == (
        "base_fee",
        4900,
        "2026-02-28T00:00:00Z",
        "2026-03-31T00:00:00Z",
    )
    assert (second["subtotal_minor"], second["tax_minor"], second["total_minor"]) == (4930, 986, 5916)
    assert [line["quantity"] for line in third["lines"] if line["kind"] == "usage"] == ["1"]
    assert third["lines"][-1]["period_end"] == "2026-04-30T00:00:00Z"
    now = (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()
    assert (now["current_period_start"], now["current_period_end"]) == ("2026-03-31T00:00:00Z", "2026-04-30T00:00:00Z")


async def test_two_workers_closing_the_same_periods_write_each_invoice_once(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    plan = await kit.plan(meter)
    customers = [await kit.customer() for _ in range(6)]
    for acme in customers:
        await subscribe(kit.api, customer_id=acme["id"], plan_key=plan, start_date="2026-05-15")

    await asyncio.gather(*(closing.close_due(kit.sessions, at("2026-08-20")) for _ in range(2)))

    for acme in customers:  # the first period's invoice, then Jun 15, Jul 15 and Aug 15, each closed once
        boundaries = [i["period_end"][:10] for i in await invoices_of(kit.api, acme["id"])]
        assert sorted(boundaries) == ["2026-06-15", "2026-06-15", "2026-07-15", "2026-08-15"]


async def test_a_trial_invoices_nothing_until_it_ends(kit: Any) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter, trial_days=14)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=plan, start_date="2026-03-01")
    assert (sub["status"], sub["trial_end"], sub["current_period_end"]) == (
        "trialing",
        "2026-03-15T00:00:00Z",
        "2026-03-15T00:00:00Z",
    )
    assert await invoices_of(kit.api, acme["id"]) == []
    await kit.record(acme["external_id"], event_type, [at("2026-03-05")] * 20)  # trial usage is free

    await closing.close_due(kit.sessions, at("2026-03-20"))

    [invoice] = await invoices_of(kit.api, acme["id"])
    assert [(line["kind"], line["amount_minor"]) for line in invoice["lines"]] == [("base_fee", 4900)]
    assert invoice["lines"][0]["period_end"] == "2026-04-15T00:00:00Z"
    after = (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()
    assert (after["status"], after["current_period_start"]) == ("active", "2026-03-15T00:00:00Z")


async def test_an_upgrade_prorates_to_the_second_on_the_next_invoice(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    starter, pro = await kit.plan(meter), await kit.plan(meter, name="Pro", base_price_minor=9900)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=starter)

    response = await kit.api.post(f"/v1/subscriptions/{sub['id']}/change-plan", json={"plan_key": pro})

    assert response.status_code == 200, response.text
    assert response.json()["plan"]["key"] == pro
    upcoming = (await kit.api.get(f"/v1/subscriptions/{sub['id']}/upcoming-invoice")).json()
    credit, charge = [line for line in upcoming["lines"] if line["kind"] == "proration"]
    changed_at = datetime.fromisoformat(credit["period_start"])
    assert changed_at.microsecond == 0
    period = Period(
        datetime.fromisoformat(sub["current_period_start"]), datetime.fromisoformat(sub["current_period_end"])
    )
    assert credit["amount_minor"] == -prorated_minor(4900, period, changed_at, period.end)
    assert charge["amount_minor"] == prorated_minor(9900, period, changed_at, period.end)
    assert upcoming["lines"][-1]["kind"] == "base_fee" and upcoming["lines"][-1]["amount_minor"] == 9900
    assert upcoming["subtotal_minor"] == sum(line["amount_minor"] for line in upcoming["lines"])
    assert upcoming["id"] is None and upcoming["status"] == "upcoming"


async def test_a_downgrade_waits_for_the_period_end(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    pro, starter = await kit.plan(meter, name="Pro", base_price_minor=9900), await kit.plan(meter)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=pro, start_date="2026-01-10")
    await closing.close_due(kit.sessions, at("2026-11-10"))  # catch up to the period open now

    changed = (await kit.api.post(f"/v1/subscriptions/{sub['id']}/change-plan", json={"plan_key": starter})).json()

    assert (changed["plan"]["key"], changed["scheduled_plan"]["key"]) == (pro, starter)
    upcoming = (await kit.api.get(f"/v1/subscriptions/{sub['id']}/upcoming-invoice")).json()
    assert [line["amount_minor"] for line in upcoming["lines"] if line["kind"] == "base_fee"] == [4900]
    assert not [line for line in upcoming["lines"] if line["kind"] == "proration"]


async def test_cancel_at_period_end_sends_a_last_invoice_without_a_fee(kit: Any) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=plan, start_date="2026-02-01")
    await closing.close_due(kit.sessions, at("2026-11-05"))
    response = await kit.api.post(f"/v1/subscriptions/{sub['id']}/cancel", json={"at_period_end": True})
    assert response.status_code == 200, response.text
    assert response.json()["cancel_at_period_end"] is True
    await kit.record(acme["external_id"], event_type, [at("2026-11-20")] * 7)

    await closing.close_due(kit.sessions, at("2026-12-02"))

    *_, last = invoices = await invoices_of(kit.api, acme["id"])
    assert [(line["kind"], line["amount_minor"]) for line in last["lines"]] == [("usage", 20)]
    ended = (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()
    assert (ended["status"], ended["ended_at"]) == ("canceled", "2026-12-01T00:00:00Z")
    await closing.close_due(kit.sessions, at("2027-03-01"))
    assert len(await invoices_of(kit.api, acme["id"])) == len(invoices)


async def test_cancel_now_bills_the_usage_so_far_and_ends_it(kit: Any) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=plan)
    await kit.record(acme["external_id"], event_type, [datetime.now(UTC)] * 6)

    response = await kit.api.post(f"/v1/subscriptions/{sub['id']}/cancel", json={"at_period_end": False})

    assert response.status_code == 200, response.text
    assert response.json()["status"] == "canceled"
    last = (await invoices_of(kit.api, acme["id"]))[-1]
    assert [(line["kind"], line["quantity"], line["amount_minor"]) for line in last["lines"]] == [("usage", "6", 10)]
    again = await kit.api.post(f"/v1/subscriptions/{sub['id']}/cancel", json={"at_period_end": False})
    assert again.status_code == 422


async def test_refusals_name_the_field_and_change_nothing(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    plan, euro_plan = await kit.plan(meter), await kit.plan(meter, currency="EUR")
    acme = await kit.customer()

    async def refused(body: dict[str, Any]) -> str:
        response = await kit.api.post("/v1/subscriptions", json=body)
        assert response.status_code == 422, response.text
        [error] = response.json()["errors"]
        return str(error["field"])

    assert await refused({"customer_id": acme["id"], "plan_key": euro_plan}) == "body.plan_key"
    assert await refused({"customer_id": "cus_nobody", "plan_key": plan}) == "body.customer_id"
    assert await refused({"customer_id": acme["id"], "plan_key": plan, "start_date": "2999-01-01"}) == "body.start_date"
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=plan)
    assert await refused({"customer_id": acme["id"], "plan_key": plan}) == "body.customer_id"
    same = await kit.api.post(f"/v1/subscriptions/{sub['id']}/change-plan", json={"plan_key": plan})
    assert same.status_code == 422 and same.json()["errors"][0]["field"] == "body.plan_key"
    listed = (await kit.api.get("/v1/subscriptions", params={"customer_id": acme["external_id"]})).json()["data"]
    assert [s["id"] for s in listed] == [sub["id"]]


async def test_invoice_numbers_have_no_gaps_and_statuses_move_one_way(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    plan = await kit.plan(meter)
    acme = await kit.customer()
    await subscribe(kit.api, customer_id=acme["id"], plan_key=plan, start_date="2026-06-01")
    await closing.close_due(kit.sessions, at("2026-09-01"))
    now = datetime.now(UTC)
    await asyncio.gather(*(service.finalize_drafts(kit.sessions, now, timedelta(0)) for _ in range(2)))

    async with kit.sessions() as session:
        query = text("SELECT number FROM invoices WHERE number LIKE :year")
        numbers = (await session.execute(query, {"year": f"{now.year}-%"})).scalars()
        assigned = sorted(int(number.split("-")[1]) for number in numbers)
    assert assigned == list(range(1, len(assigned) + 1))
    invoice = (await invoices_of(kit.api, acme["id"]))[0]
    assert invoice["status"] == "finalized" and invoice["number"].startswith(f"{now.year}-")
    paid = await kit.api.post(f"/v1/invoices/{invoice['id']}/pay")
    assert paid.status_code == 200 and paid.json()["status"] == "paid"
    assert (await kit.api.post(f"/v1/invoices/{invoice['id']}/void")).status_code == 409
    assert (await kit.api.post(f"/v1/invoices/{invoice['id']}/finalize")).status_code == 409
    assert (await kit.api.get(f"/v1/invoices/{invoice['id']}")).json()["number"] == invoice["number"]


async def test_two_subscriptions_of_one_customer_measure_their_own_periods(kit: Any) -> None:
    meter, event_type = await kit.count_meter()
    plan = await kit.plan(meter, allow_multiple_subscriptions=True)
    acme = await kit.customer()
    early = await subscribe(kit.api, customer_id=acme["id"], plan_key=plan, start_date="2026-04-01")
    late = await subscribe(kit.api, customer_id=acme["id"], plan_key=plan, start_date="2026-04-16")
    await kit.record(acme["external_id"], event_type, [at("2026-04-10")] * 9 + [at("2026-04-20")] * 7)

    await closing.close_due(kit.sessions, at("2026-05-17"))

    usage = {
        invoice["subscription_id"]: line["quantity"]
        for invoice in await invoices_of(kit.api, acme["id"])
        for line in invoice["lines"]
        if line["kind"] == "usage"
    }
    assert usage == {early["id"]: "16", late["id"]: "7"}


@pytest.mark.usefixtures("billing_worker")
async def test_changes_are_announced_on_the_billing_topic_in_order(kit: Any, billing_settings: BillingSettings) -> None:
    meter, _ = await kit.count_meter()
    starter, pro = await kit.plan(meter), await kit.plan(meter, name="Pro", base_price_minor=9900, interval="month")
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=starter)
    await kit.api.post(f"/v1/subscriptions/{sub['id']}/change-plan", json={"plan_key": pro})
    [first] = await invoices_of(kit.api, acme["id"])
    assert (await kit.api.post(f"/v1/invoices/{first['id']}/finalize")).status_code == 200

    async def announced() -> list[dict[str, Any]]:
        records = await consume_all(billing_settings.kafka_bootstrap_servers, BILLING_EVENTS)
        events = [json.loads(r.value) for r in records if r.key == acme["id"].encode()]
        assert [e["type"] for e in events] == [
            "tally.customer.created",
            "tally.subscription.created",
            "tally.subscription.updated",
            "tally.invoice.finalized",
        ]
        return events

    _, created, upgraded, finalized = await eventually(announced)
    assert created["data"]["terms"] | {"plan_key": "-"} == {
        "plan_key": "-",
        "plan_version": 1,
        "status": "active",
        "interval": "month",
        "base_price_minor": 4900,
        "mrr_minor": 4900,
    }
    assert (upgraded["data"]["change"], upgraded["data"]["previous"]["mrr_minor"]) == ("plan_changed", 4900)
    assert upgraded["data"]["terms"]["mrr_minor"] == 9900
    assert (finalized["data"]["number"], finalized["data"]["total_minor"]) == (
        (await kit.api.get(f"/v1/invoices/{first['id']}")).json()["number"],
        4900,
    )


async def test_an_upgrade_to_a_yearly_plan_starts_a_year_now_with_a_credit_for_the_month(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    monthly = await kit.plan(meter)
    yearly = await kit.plan(meter, name="Pro yearly", interval="year", base_price_minor=120000)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=monthly)

    response = await kit.api.post(f"/v1/subscriptions/{sub['id']}/change-plan", json={"plan_key": yearly})

    assert response.status_code == 200, response.text
    moved = response.json()
    changed_at = datetime.fromisoformat(moved["current_period_start"])
    assert moved["plan"]["key"] == yearly
    assert datetime.fromisoformat(moved["current_period_end"]) == changed_at.replace(year=changed_at.year + 1)
    month = Period(
        datetime.fromisoformat(sub["current_period_start"]), datetime.fromisoformat(sub["current_period_end"])
    )
    *_, invoice = await invoices_of(kit.api, acme["id"])
    assert [(line["kind"], line["amount_minor"]) for line in invoice["lines"]] == [
        ("usage", 0),
        ("proration", -prorated_minor(4900, month, changed_at, month.end)),
        ("base_fee", 120000),
    ]


async def test_a_yearly_plan_moves_to_monthly_at_its_renewal(kit: Any) -> None:
    meter, _ = await kit.count_meter()
    yearly = await kit.plan(meter, name="Yearly", interval="year", base_price_minor=49000)
    monthly = await kit.plan(meter, name="Monthly", base_price_minor=3900)
    acme = await kit.customer()
    sub = await subscribe(kit.api, customer_id=acme["id"], plan_key=yearly, start_date="2025-12-01")
    changed = await kit.api.post(f"/v1/subscriptions/{sub['id']}/change-plan", json={"plan_key": monthly})
    assert changed.json()["scheduled_plan"]["key"] == monthly

    await closing.close_due(kit.sessions, at("2026-12-02"))

    renewed = (await kit.api.get(f"/v1/subscriptions/{sub['id']}")).json()
    assert (renewed["plan"]["key"], renewed["current_period_end"]) == (monthly, "2027-01-01T00:00:00Z")
    *_, invoice = await invoices_of(kit.api, acme["id"])
    assert [(line["kind"], line["amount_minor"]) for line in invoice["lines"] if line["kind"] == "base_fee"] == [
        ("base_fee", 3900)
    ]
