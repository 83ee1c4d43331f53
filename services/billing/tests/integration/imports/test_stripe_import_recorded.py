"""The import against Stripe payloads of a small account (tests/fixtures/stripe/, in the shape of the API version
the SDK pins, written after Stripe's API reference), for what localstripe cannot do: subscriptions in the current
API shape (periods on their items, invoices naming them under `parent`, payments as InvoicePayments), history over
two years (a trial, renewals, a cancellation at period end, an invoice uncollectible then paid, one voided, one past
due, a draft), invoice numbers, taxes and discounts, more than one line per invoice, a metered price, a quantity,
another currency.

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

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "stripe"
KEY = "sk_test_recorded_account"
PAGE_CAP = 2  # the replay pages by two, so the import's paging is exercised
SHIFTED = {
    "created", "start_date", "billing_cycle_anchor", "canceled_at", "ended_at", "trial_start", "trial_end",
    "current_period_start", "current_period_end", "cancel_at", "finalized_at", "paid_at", "voided_at",
    "marked_uncollectible_at", "period_start", "period_end", "start", "end", "effective_at", "updated_at",
    "webhooks_delivered_at", "automatically_finalizes_at", "updated",
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
        return _page(request, where("subscriptions", request, "customer"), "/v1/subscriptions")

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

    app = web.Application(middlewares=[authenticated])
    app.router.add_get("/v1/customers", customers)
    app.router.add_get("/v1/subscriptions", subscriptions)
    app.router.add_get("/v1/invoices", invoices)
    app.router.add_get("/v1/invoices/{id}/lines", lines)
    app.router.add_get("/v1/invoice_payments", invoice_payments)
    app.router.add_get("/v1/products/{id}", product)
    return app


@dataclass(frozen=True)
class Replay:
    base: str
    data: dict[str, list[dict[str, Any]]]  # what it serves, by kind: a test may move the account on

    def invoice(self, invoice_id: str) -> dict[str, Any]:
        return next(invoice for invoice in self.data["invoices"] if invoice["id"] == invoice_id)


@pytest.fixture(scope="module")
async def replay() -> AsyncIterator[Replay]:
    kinds = ("customers", "subscriptions", "invoices", "invoice_payments", "products")
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
    refs |= {"hooli": "cus_QxHooli0000001", "wayne": "wayne-enterprises"}
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
        "customers": 4,
        "plans": 3,
        "subscriptions": 4,
        "invoices": 14,
        "payments": 11,
    }
    assert (result["counts"]["customers"]["linked"], result["counts"]["invoices"]["skipped"]) == (1, 1)
    skipped = {item["stripe_id"]: item["reason"] for item in result["skipped"]}
    assert skipped == {
        "sub_1QxInitechApi1": "a metered price: Tally prices usage with its own meters and plan charges",
        "in_1QxIn0000000005": "a draft: it is imported once Stripe finalizes it",
    }

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

    [pro] = await subscriptions_of(billing_api, ids["initech"])
    assert pro["status"] == "past_due"
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


async def test_the_history_is_announced_at_its_moments(
    imports: Any, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    _, ids = recorded

    events = await imports.announced_at_least(list(ids.values()), "tally.payment.succeeded", 11)

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
    assert [imports.mrr_at(events, at(day)) for day in days] == [0, 10000, 19800, 19800, 10000, 14900, 19800]


async def test_running_it_again_changes_nothing(
    imports: Any, replay: Replay, recorded: tuple[dict[str, Any], dict[str, str]]
) -> None:
    customers = list(recorded[1].values())
    before = await imports.snapshot(customers)

    again = await imports.run({"api_key": KEY, "api_base": replay.base})

    assert again["status"] == "succeeded"
    assert set(imports.created(again["counts"]).values()) == {0}
    assert again["counts"]["customers"]["existing"] == 5
    assert (again["counts"]["invoices"]["existing"], again["counts"]["payments"]["existing"]) == (14, 11)
    assert await imports.snapshot(customers) == before


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
    [pro] = await subscriptions_of(billing_api, initech)
    assert pro["status"] == "active"
    events = await imports.announced_at_least([initech], "tally.payment.succeeded", 4)
    assert [(e["type"], moment(e["time"])) for e in events[-3:]] == [
        ("tally.invoice.paid", at("2026-11-20T11:00:00")),
        ("tally.subscription.updated", at("2026-11-20T11:00:00")),  # active again, as Tally's collection does
        ("tally.payment.succeeded", at("2026-11-20T11:00:00")),
    ]
    assert events[-1]["data"]["payment_intent_id"] == "pi_3QxIn0000000004"


async def test_a_key_the_account_refuses_fails_the_run(imports: Any, replay: Replay) -> None:
    result = await imports.run({"api_key": "sk_test_someone_elses", "api_base": replay.base})
    assert (result["status"], "refused the API key (HTTP 401)" in result["error"]) == ("failed", True)
