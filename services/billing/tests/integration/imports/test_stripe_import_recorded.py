"""The import against Stripe payloads of a small account (tests/fixtures/stripe/, in the shape of the API version
the SDK pins, written after Stripe's API reference), for what localstripe cannot do: subscriptions in the current
API shape (periods on their items, invoices naming them under `parent`, payments as InvoicePayments), history over
two years (a trial, renewals, a cancellation at period end, an invoice uncollectible then paid, one voided, one past
due, a draft), invoice numbers, taxes and discounts, more than one line per invoice, a quantity, another currency,
and prices on one subscription that Tally holds as one plan: a licensed base price, seats on graduated tiers (with
fractional amounts) that a list gives without their tiers, and a metered price on a Stripe billing meter (read from
/v1/billing/meters), which a list of subscriptions shows only among the items past the first ones; refunds (two
partial ones of one payment, one in euros, a failed one, one of a payment no invoice made) and a dispute, which
localstripe has not.

The payloads are served over HTTP, paged, to the official SDK, shifted by whole days so that "now" in them is today."""

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web
from billing.catalog import repository as meters

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe"
KEY = "sk_test_recorded_account"
PAGE_CAP = 2  # the replay pages by two, so the import's paging is exercised
ITEMS_SHOWN = 2  # a subscription in a list shows its first items (Stripe: ten), the rest is read by the import
SHIFTED = {
    "created", "start_date", "billing_cycle_anchor", "canceled_at", "ended_at", "trial_start", "trial_end",
    "current_period_start", "current_period_end", "cancel_at", "finalized_at", "paid_at", "voided_at",
    "marked_uncollectible_at", "period_start", "period_end", "start", "end", "effective_at", "updated_at",
    "webhooks_delivered_at", "automatically_finalizes_at", "updated", "due_by",
}  # fmt: skip


def _load(name: str) -> Any:
    return json.loads((FIXTURES / f"{name}.json").read_text())


RECORDED_AT = _load("account")["recorded_at"]
SHIFT = (datetime.now(UTC).date() - datetime.fromtimestamp(RECORDED_AT, UTC).date()).days * 86_400


def at(moment: str) -> datetime:
    """A moment of the recording (UTC), as the replay serves it."""
    return datetime.fromtimestamp(datetime.fromisoformat(moment).replace(tzinfo=UTC).timestamp() + SHIFT, UTC)


def _shifted(value: Any, key: str = "") -> Any:
    if isinstance(value, dict):
        return {k: _shifted(v, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_shifted(item) for item in value]
    return value + SHIFT if key in SHIFTED and isinstance(value, int) else value


def _page(request: web.Request, items: list[dict[str, Any]], url: str) -> web.Response:
    limit = min(int(request.query.get("limit", 10)), PAGE_CAP)
    start = 0
    if after := request.query.get("starting_after"):
        start = next(index for index, item in enumerate(items) if item["id"] == after) + 1
    page = items[start : start + limit]
    return web.json_response({"object": "list", "data": page, "has_more": start + limit < len(items), "url": url})


def _error(status: int, message: str, kind: str = "invalid_request_error") -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind}}, status=status)


def replay_app(data: dict[str, list[dict[str, Any]]]) -> web.Application:
    """A Stripe that knows one recorded account (`data`: its objects by kind) and answers the reads an import
    makes."""

    @web.middleware
    async def authenticated(request: web.Request, handler: Any) -> web.StreamResponse:
        if request.headers.get("Authorization") != f"Bearer {KEY}":
            return _error(401, "Invalid API Key provided: sk_test_****")
        response: web.StreamResponse = await handler(request)
        return response

    def where(name: str, request: web.Request, *fields: str) -> list[dict[str, Any]]:
        return [item for item in data[name] if all(item[f] == request.query[f] for f in fields if f in request.query)]

    async def customers(request: web.Request) -> web.Response:
        return _page(request, data["customers"], "/v1/customers")

    async def subscriptions(request: web.Request) -> web.Response:
        assert request.query.get("status") == "all"  # canceled ones too
        found = []
        for sub in where("subscriptions", request, "customer"):
            items = sub["items"]["data"]
            found.append(
                sub | {"items": sub["items"] | {"data": items[:ITEMS_SHOWN], "has_more": len(items) > ITEMS_SHOWN}}
            )
        return _page(request, found, "/v1/subscriptions")

    async def subscription_items(request: web.Request) -> web.Response:
        [sub] = [s for s in data["subscriptions"] if s["id"] == request.query["subscription"]]
        return _page(request, sub["items"]["data"], "/v1/subscription_items")

    async def price(request: web.Request) -> web.Response:
        """A price without its tiers unless they are expanded, as Stripe answers."""
        found = [p for p in data["prices"] if p["id"] == request.match_info["id"]]
        if not found:
            return _error(404, "No such price")
        expanded = {value for name, value in request.query.items() if name.startswith("expand")}
        return web.json_response(
            found[0] if "tiers" in expanded else {k: v for k, v in found[0].items() if k != "tiers"}
        )

    async def invoices(request: web.Request) -> web.Response:
        found = []
        for invoice in where("invoices", request, "customer"):  # a list shows each invoice's first line only
            lines = invoice["lines"]["data"]
            found.append(invoice | {"lines": invoice["lines"] | {"data": lines[:1], "has_more": len(lines) > 1}})
        return _page(request, found, "/v1/invoices")

    async def lines(request: web.Request) -> web.Response:
        [invoice] = [i for i in data["invoices"] if i["id"] == request.match_info["id"]]
        return _page(request, invoice["lines"]["data"], f"/v1/invoices/{invoice['id']}/lines")

    async def invoice_payments(request: web.Request) -> web.Response:
        return _page(request, where("invoice_payments", request, "invoice", "status"), "/v1/invoice_payments")

    async def product(request: web.Request) -> web.Response:
        found = [p for p in data["products"] if p["id"] == request.match_info["id"]]
        return web.json_response(found[0]) if found else _error(404, "No such product")

    async def refunds(request: web.Request) -> web.Response:
        return _page(request, where("refunds", request, "charge", "payment_intent"), "/v1/refunds")

    async def disputes(request: web.Request) -> web.Response:
        return _page(request, where("disputes", request, "charge", "payment_intent"), "/v1/disputes")

    async def meter(request: web.Request) -> web.Response:
        found = [m for m in data["meters"] if m["id"] == request.match_info["id"]]
        return web.json_response(found[0]) if found else _error(404, "No such billing meter")

    app = web.Application(middlewares=[authenticated])
    app.router.add_get("/v1/customers", customers)
    app.router.add_get("/v1/subscriptions", subscriptions)
    app.router.add_get("/v1/subscription_items", subscription_items)
    app.router.add_get("/v1/prices/{id}", price)
    app.router.add_get("/v1/invoices", invoices)
    app.router.add_get("/v1/invoices/{id}/lines", lines)
    app.router.add_get("/v1/invoice_payments", invoice_payments)
    app.router.add_get("/v1/products/{id}", product)
    app.router.add_get("/v1/refunds", refunds)
    app.router.add_get("/v1/disputes", disputes)
    app.router.add_get("/v1/billing/meters/{id}", meter)
    return app


@dataclass(frozen=True)
class Replay:
    base: str
    data: dict[str, list[dict[str, Any]]]  # what it serves, by kind: a test may move the account on

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return next(invoice for invoice in self.data["invoices"] if invoice["id"] == invoice_id)


@pytest.fixture(scope="module")
async def replay() -> AsyncIterator[Replay]:
    kinds = ["customers", "subscriptions", "invoices", "invoice_payments", "products", "prices"]
    kinds += ["refunds", "disputes", "meters"]
    data = {kind: _shifted(_load(kind))["data"] for kind in kinds}
    runner = web.AppRunner(replay_app(data), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield Replay(f"http://{host}:{port}", data)
    finally:
        await runner.cleanup()


@pytest.fixture(scope="module")
async def recorded(
    imports: Any, billing_api: httpx.AsyncClient, replay: Replay, billing_worker: None
) -> tuple[dict[str, Any], dict[str, str]]:
    """Wayne Enterprises is a Tally customer already; then the first import: (its result, name -> Tally id)."""
    wayne = {"external_id": "wayne-enterprises", "name": "Wayne Enterprises", "currency": "USD"}
    assert (await billing_api.post("/v1/customers", json=wayne)).status_code == 201
    result = await imports.run({"api_key": KEY, "api_base": replay.base})
    refs = {"northwind": "northwind", "globex": "cus_QxGlobex000001", "initech": "cus_QxInitech00001"}
    refs |= {"hooli": "cus_QxHooli0000001", "wayne": "wayne-enterprises", "umbrella": "cus_QxUmbrella0001"}
    ids = {name: (await billing_api.get(f"/v1/customers/{ref}")).json()["id"] for name, ref in refs.items()}
    return result, ids


async def subscriptions_of(api: httpx.AsyncClient, customer_id: str) -> list[dict[str, Any]]:
    found: list[dict[str, Any]] = (await api.get("/v1/subscriptions", params={"customer_id": customer_id})).json()[
        "data"
    ]
    return found


async def invoices_of(api: httpx.AsyncClient, customer_id: str) -> dict[str, dict[str, Any]]:
    """By number."""
    found = (await api.get("/v1/invoices", params={"customer_id": customer_id})).json()["data"]
    return {invoice["number"]: invoice for invoice in found}


def moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


async def test_the_recorded_account_is_imported(
    billing_api: httpx.AsyncClient, imports: Any, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    result, ids = recorded
    assert result["status"] == "succeeded", result
    assert imports.created(result["counts"]) == {
        "customers": 5,
        "meters": 1,  # Stripe's meter of API calls, priced on two plans
        "plans": 5,
        "subscriptions": 6,
        "invoices": 17,
        "payments": 14,
        "refunds": 3,  # Wayne's two partial ones and Hooli's in euros; not a failed one, nor one of no invoice's
        "disputes": 1,
    }
    assert (result["counts"]["customers"]["linked"], result["counts"]["invoices"]["skipped"]) == (1, 1)
    skipped = {item["stripe_id"]: item["reason"] for item in result["skipped"]}
    assert skipped == {"in_1QxIn0000000005": "a draft: it is imported once Stripe finalizes it"}

    northwind = (await billing_api.get(f"/v1/customers/{ids['northwind']}")).json()
    assert (northwind["external_id"], northwind["currency"], northwind["metadata"]["crm_id"]) == (
        "northwind",
        "USD",
        "NW-001",
    )
    [team] = await subscriptions_of(billing_api, ids["northwind"])
    assert (team["status"], team["plan"]["key"], team["currency"]) == ("active", "stripe_price_1qxteamyearlyusd", "USD")
    assert (moment(team["started_at"]), moment(team["trial_end"])) == (
        at("2024-12-05T09:00:05"),
        at("2024-12-19T09:00:05"),
    )
    assert (moment(team["current_period_start"]), moment(team["current_period_end"])) == (
        at("2025-12-19T09:00:05"),
        at("2026-12-19T09:00:05"),
    )
    plan = (await billing_api.get("/v1/plans/stripe_price_1qxteamyearlyusd")).json()
    assert (plan["name"], plan["interval"], plan["base_price_minor"]) == ("Team", "year", 120000)
    renewal = (await invoices_of(billing_api, ids["northwind"]))["NW7A1C2D-0003"]
    assert [(line["kind"], line["amount_minor"]) for line in renewal["lines"]] == [
        ("base_fee", 120000),
        ("adjustment", 30000),  # the add-on, the invoice's second line (read through /v1/invoices/{id}/lines)
        ("adjustment", -15000),  # the 10% discount
    ]
    assert (renewal["subtotal_minor"], renewal["tax_minor"], renewal["total_minor"]) == (135000, 27000, 162000)
    assert (renewal["status"], moment(renewal["paid_at"])) == ("paid", at("2025-12-19T11:00:02"))

    [seats] = await subscriptions_of(billing_api, ids["globex"])
    assert (seats["status"], seats["plan"]["key"], seats["cancel_at_period_end"]) == (
        "canceled",
        "stripe_price_1qxpromonthlyusd_x2",
        True,
    )
    assert (moment(seats["canceled_at"]), moment(seats["ended_at"])) == (
        at("2025-09-02T08:30:00"),
        at("2025-09-10T14:00:00"),
    )
    globex = await invoices_of(billing_api, ids["globex"])
    assert {number: invoice["status"] for number, invoice in globex.items()} == {
        "GLX-0001": "paid",
        "GLX-0002": "paid",
        "GLX-0003": "paid",
        "GLX-0004": "void",
    }
    assert globex["GLX-0004"]["lines"][0]["kind"] == "proration"

    calls, pro = sorted(await subscriptions_of(billing_api, ids["initech"]), key=lambda sub: sub["plan"]["key"])
    assert (pro["status"], pro["plan"]["key"]) == ("past_due", "stripe_price_1qxpromonthlyusd")
    assert (calls["status"], calls["plan"]["key"]) == ("active", "stripe_price_1qxapimeteredusd")
    initech = await invoices_of(billing_api, ids["initech"])
    assert initech["INI-0004"]["status"] == "finalized"
    payment = (await billing_api.get(f"/v1/invoices/{initech['INI-0004']['id']}/payment")).json()
    assert payment["status"] == "external"

    hooli = (await billing_api.get(f"/v1/customers/{ids['hooli']}")).json()
    [implementation] = (await invoices_of(billing_api, ids["hooli"])).values()
    assert (hooli["currency"], implementation["currency"], implementation["total_minor"]) == ("EUR", "EUR", 15000)
    assert await subscriptions_of(billing_api, ids["hooli"]) == []

    wayne = (await billing_api.get(f"/v1/customers/{ids['wayne']}")).json()
    assert wayne["metadata"] == {}  # linked: the customer Tally had is left as it was
    assert [sub["status"] for sub in await subscriptions_of(billing_api, ids["wayne"])] == ["active"]


async def test_several_prices_on_one_subscription_become_one_plan(
    kit: Any, imports: Any, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, ids = recorded
    key = "stripe_price_1qxapimeteredusd_price_1qxplatformusd_price_1qxseatsgraduatedusd_x12"  # refs, sorted
    [umbrella] = await subscriptions_of(kit.api, ids["umbrella"])
    assert (umbrella["status"], umbrella["plan"]["key"]) == ("active", key)
    assert (moment(umbrella["current_period_start"]), moment(umbrella["current_period_end"])) == (
        at("2026-11-02T09:00:00"),
        at("2026-12-02T09:00:00"),
    )
    plan = (await kit.api.get(f"/v1/plans/{key}")).json()
    assert (plan["name"], plan["interval"], plan["currency"]) == ("API calls + Platform + Seats x 12", "month", "USD")
    # Platform 9900; 12 seats on the tiers read with expand=tiers: 2500 + 5 x 1500 + 7 x 1199.5 = 18396.5 -> 18397.
    assert plan["base_price_minor"] == 28297
    usage = [(c["meter"], c["model"], c["unit_price"], c["included_units"]) for c in plan["charges"]]
    assert usage == [("api_call", "per_unit", "2", "0")]  # the third item: read past the list's first
    calls = (await kit.api.get("/v1/plans/stripe_price_1qxapimeteredusd")).json()  # Initech's, on the same meter
    assert (calls["name"], calls["base_price_minor"], calls["charges"]) == ("API calls", 0, plan["charges"])
    async with kit.sessions() as session:
        [meter] = await meters.meters_by_keys(session, ["api_call"])
    # Stripe's meter as it is: the company sends Tally the events it sends Stripe (`api_call`, summing `calls`)
    assert (meter.event_type, meter.aggregation, meter.property) == ("api_call", "sum", "calls")

    october = (await invoices_of(kit.api, ids["umbrella"]))["UMB-0002"]
    assert [(line["kind"], line["quantity"], line["amount_minor"]) for line in october["lines"]] == [
        ("base_fee", "1", 9900),
        ("base_fee", "12", 18397),
        ("usage", "41250", 82500),  # September's API calls, as Stripe invoiced them: usage history is this
    ]
    events = await imports.announced_at_least([ids["umbrella"]], "tally.payment.succeeded", 3)
    [created] = [e["data"] for e in events if e["type"] == "tally.subscription.created"]
    assert (created["terms"]["base_price_minor"], created["terms"]["mrr_minor"]) == (28297, 28297)


async def test_the_history_is_announced_at_its_moments(
    imports: Any, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, ids = recorded

    events = await imports.announced_at_least(list(ids.values()), "tally.payment.succeeded", 14)

    northwind = [(e["type"], moment(e["time"])) for e in events if e["subject"] == ids["northwind"]]
    assert northwind[:6] == [
        ("tally.customer.created", at("2024-12-05T09:00:00")),
        ("tally.subscription.created", at("2024-12-05T09:00:05")),  # trialing
        ("tally.invoice.finalized", at("2024-12-05T09:00:05")),  # the trial's invoice, 0: no payment
        ("tally.invoice.paid", at("2024-12-05T09:00:05")),
        ("tally.subscription.updated", at("2024-12-19T09:00:05")),  # the trial ends
        ("tally.invoice.finalized", at("2024-12-19T11:00:00")),
    ]
    changes = [
        (e["data"]["change"], moment(e["data"]["effective_at"]), e["data"]["terms"]["mrr_minor"])
        for e in events
        if e["type"].startswith("tally.subscription.")
    ]
    assert sorted(changes, key=lambda change: str(change[1])) == [
        ("created", at("2024-12-05T09:00:05"), 0),  # Northwind, trialing
        ("status_changed", at("2024-12-19T09:00:05"), 10000),  # its trial ends: 120000 a year
        ("created", at("2025-06-10T14:00:00"), 9800),  # Globex, two seats
        ("cancel_scheduled", at("2025-09-02T08:30:00"), 9800),
        ("canceled", at("2025-09-10T14:00:00"), 0),
        ("created", at("2026-08-01T08:00:00"), 4900),  # Initech
        ("created", at("2026-08-01T08:00:00"), 0),  # Initech's API calls: usage only, no recurring revenue
        ("created", at("2026-09-02T09:00:00"), 28297),  # Umbrella: platform 9900 + 12 seats on tiers 18396.5
        ("created", at("2026-10-01T07:00:00"), 4900),  # Wayne
        ("status_changed", at("2026-11-01T10:00:00"), 4900),  # Initech past due: MRR still, until it ends
    ]
    intents = {e["data"]["invoice_id"]: e["data"]["payment_intent_id"] for e in events if "payment" in e["type"]}
    assert sorted(intent or "(paid outside Stripe)" for intent in intents.values())[:2] == [
        "(paid outside Stripe)",
        "pi_3QxGx0000000001",
    ]
    uncollectible = [e for e in events if e["type"] == "tally.invoice.marked_uncollectible"]
    assert [moment(e["time"]) for e in uncollectible] == [at("2025-08-31T16:00:00")]
    days = ("2024-12-10", "2025-01-01", "2025-07-01", "2025-09-05", "2025-10-01", "2026-09-01", "2026-10-15")
    assert [imports.mrr_at(events, at(day)) for day in days] == [0, 10000, 19800, 19800, 10000, 14900, 48097]


async def test_running_it_again_changes_nothing(
    imports: Any, replay: Replay, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    customers = list(recorded[1].values())
    before = await imports.snapshot(customers)

    again = await imports.run({"api_key": KEY, "api_base": replay.base})

    assert again["status"] == "succeeded"
    assert set(imports.created(again["counts"]).values()) == {0}
    assert again["counts"]["customers"]["existing"] == 6
    assert (again["counts"]["invoices"]["existing"], again["counts"]["payments"]["existing"]) == (17, 14)
    assert (again["counts"]["refunds"]["existing"], again["counts"]["disputes"]["existing"]) == (3, 1)
    assert await imports.snapshot(customers) == before


async def test_refunds_and_disputes_are_recorded_as_the_webhooks_record_them(
    billing_api: httpx.AsyncClient, imports: Any, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, ids = recorded

    events = await imports.announced_at_least(list(ids.values()), "tally.payment.refunded", 3)

    money_back = [
        (
            e["type"],
            e["subject"],
            e["data"]["amount_minor"],
            e["data"]["currency"],
            e["data"]["reason"],
            moment(e["time"]),
        )
        for e in events
        if e["type"] in ("tally.payment.refunded", "tally.payment.disputed")
    ]
    assert sorted(money_back, key=lambda fact: str(fact[5])) == [
        ("tally.payment.refunded", ids["hooli"], 15000, "EUR", "refunded", at("2026-03-19T12:05:00")),
        ("tally.payment.disputed", ids["initech"], 4900, "USD", "fraudulent", at("2026-09-10T08:00:00")),
        ("tally.payment.refunded", ids["wayne"], 1000, "USD", "refunded", at("2026-10-04T08:00:00")),
        ("tally.payment.refunded", ids["wayne"], 900, "USD", "refunded", at("2026-10-07T08:00:00")),
    ]
    wayne = [(e["type"], moment(e["time"])) for e in events if e["subject"] == ids["wayne"]][1:]  # made in Tally
    assert wayne == sorted(wayne, key=lambda step: str(step[1]))  # in the order they happened, after the payment
    assert [step for step, _ in wayne].count("tally.payment.refunded") == 2
    way1 = (await invoices_of(billing_api, ids["wayne"]))["WAY-0001"]
    refunded = [e["data"] for e in events if e["type"] == "tally.payment.refunded" and e["subject"] == ids["wayne"]]
    assert {(data["invoice_id"], data["payment_intent_id"]) for data in refunded} == {
        (way1["id"], "pi_3QxWy0000000001")
    }
    payment = (await billing_api.get(f"/v1/invoices/{way1['id']}/payment")).json()
    assert (payment["status"], payment["payment_intent_id"]) == ("paid", "pi_3QxWy0000000001")  # live refunds find it


async def test_a_refund_made_after_an_import_is_brought_over_by_the_next_run(
    imports: Any, replay: Replay, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    wayne = recorded[1]["wayne"]
    before = await imports.announced_at_least([wayne], "tally.payment.refunded", 2)
    later = dict(replay.data["refunds"][2])  # one of WAY-0002's payment, in full
    later |= {"id": "re_3QxWy0000000002a", "amount": 4900, "created": int(at("2026-11-10T09:00:00").timestamp())}
    later |= {"payment_intent": "pi_3QxWy0000000002", "charge": "ch_3QxWy0000000002"}
    replay.data["refunds"].insert(0, later)

    again = await imports.run({"api_key": KEY, "api_base": replay.base})

    assert again["counts"]["refunds"] | {"skipped": 0} == {
        "created": 1,
        "existing": 3,
        "linked": 0,
        "updated": 0,
        "skipped": 0,
    }
    events = await imports.announced_at_least([wayne], "tally.payment.refunded", 3)
    new = events[len(before) :]
    assert [(e["type"], e["data"]["amount_minor"], moment(e["time"])) for e in new] == [
        ("tally.payment.refunded", 4900, at("2026-11-10T09:00:00"))
    ]


async def test_an_overdue_invoice_paid_in_stripe_since_makes_the_subscription_active_again(
    billing_api: httpx.AsyncClient, imports: Any, replay: Replay, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    initech = recorded[1]["initech"]
    overdue = replay.invoice("in_1QxIn0000000004")
    paid_at = int(at("2026-11-20T11:00:00").timestamp())
    overdue["status"], overdue["amount_paid"], overdue["amount_remaining"] = "paid", 4900, 0
    overdue["status_transitions"] |= {"paid_at": paid_at}
    payment = {"id": "inpay_1QxIn04", "object": "invoice_payment", "invoice": overdue["id"], "is_default": True}
    payment |= {"status": "paid", "amount_paid": 4900, "currency": "usd", "created": paid_at}
    payment |= {"payment": {"type": "payment_intent", "payment_intent": "pi_3QxIn0000000004"}}
    replay.data["invoice_payments"].append(payment)

    again = await imports.run({"api_key": KEY, "api_base": replay.base})

    assert (again["counts"]["invoices"]["updated"], again["counts"]["payments"]["created"]) == (1, 1)
    assert (await invoices_of(billing_api, initech))["INI-0004"]["status"] == "paid"
    statuses = {sub["plan"]["key"]: sub["status"] for sub in await subscriptions_of(billing_api, initech)}
    assert statuses == {"stripe_price_1qxpromonthlyusd": "active", "stripe_price_1qxapimeteredusd": "active"}
    events = await imports.announced_at_least([initech], "tally.payment.succeeded", 4)
    assert [(e["type"], moment(e["time"])) for e in events[-3:]] == [
        ("tally.invoice.paid", at("2026-11-20T11:00:00")),
        ("tally.subscription.updated", at("2026-11-20T11:00:00")),  # active again, as Tally's collection does
        ("tally.payment.succeeded", at("2026-11-20T11:00:00")),
    ]
    assert events[-1]["data"]["payment_intent_id"] == "pi_3QxIn0000000004"


def _metered_subscription(replay: Replay, customer: str, meters: dict[str, str]) -> dict[str, Any]:
    """A new subscription of `customer`, on a metered price per Stripe meter (price id -> meter id), shaped as
    Initech's API calls."""
    template = next(sub for sub in replay.data["subscriptions"] if sub["id"] == "sub_1QxInitechApi1")
    sub: dict[str, Any] = json.loads(json.dumps(template)) | {"id": f"sub_{customer[4:]}", "customer": customer}
    [item] = sub["items"]["data"]
    items = []
    for price_id, meter_id in meters.items():
        price = item["price"] | {"id": price_id, "recurring": item["price"]["recurring"] | {"meter": meter_id}}
        items.append(item | {"id": f"si_{price_id[6:]}", "price": price, "subscription": sub["id"]})
    sub["items"] = sub["items"] | {"data": items}
    return sub


async def test_stripe_meters_become_meters_of_the_same_events(
    kit: Any, imports: Any, replay: Replay, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    """A Stripe meter whose event name names a Tally meter measuring something else gets a key of its own (and the
    reason); one that Tally measures exactly already is that meter."""
    taken = {"key": "inference_tokens", "event_type": "inference_tokens", "aggregation": "count"}
    await kit.created("/v1/meters", taken)
    same = {"key": "recorded_seats_in_use", "event_type": "seat.active", "aggregation": "count"}
    await kit.created("/v1/meters", same)
    customer = replay.data["customers"][0] | {"id": "cus_QxSoylent00001", "name": "Soylent", "metadata": {}}
    replay.data["customers"].append(customer)
    meters_of = {"price_1QxTokensUSD": "mtr_QxTokens", "price_1QxSeatsMeteredUSD": "mtr_QxActiveSeats"}
    replay.data["subscriptions"].append(_metered_subscription(replay, customer["id"], meters_of))

    result = await imports.run({"api_key": KEY, "api_base": replay.base})

    assert (result["status"], result["counts"]["meters"]["created"], result["counts"]["meters"]["linked"]) == (
        "succeeded",
        1,
        1,
    )
    problems = [item for item in result["skipped"] if item["kind"] == "meters"]
    assert problems == [
        {
            "kind": "meters",
            "stripe_id": "mtr_QxTokens",
            "reason": "the Tally meter `inference_tokens` measures something else: made `stripe_mtr_qxtokens` "
            "(latest of `in_use` of `inference_tokens` events) instead",
        }
    ]
    soylent = (await kit.api.get("/v1/customers/cus_QxSoylent00001")).json()
    [sub] = await subscriptions_of(kit.api, soylent["id"])
    plan = (await kit.api.get(f"/v1/plans/{sub['plan']['key']}")).json()
    assert sorted(charge["meter"] for charge in plan["charges"]) == ["recorded_seats_in_use", "stripe_mtr_qxtokens"]
    async with kit.sessions() as session:
        [tokens] = await meters.meters_by_keys(session, ["stripe_mtr_qxtokens"])
    assert (tokens.event_type, tokens.aggregation, tokens.property) == ("inference_tokens", "latest", "in_use")


async def test_a_key_the_account_refuses_fails_the_run(imports: Any, replay: Replay) -> None:
    result = await imports.run({"api_key": "sk_test_someone_elses", "api_base": replay.base})
    assert (result["status"], "refused the API key (HTTP 401)" in result["error"]) == ("failed", True)
