"""Collecting by Stripe invoice (invoice items + an invoice, finalized by us, then paid), which localstripe cannot
do: against a small stateful server on loopback that answers with the Stripe objects recorded in
tests/fixtures/stripe/invoicing/ (ids, amounts and statuses filled in) and, like Stripe, replays the saved answer
to a request whose Idempotency-Key it has seen."""

import copy
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl
from uuid import uuid4

import pytest
from aiohttp import web
from billing.config import BillingSettings
from billing.invoices import service as invoices
from billing.payment import collection, webhooks
from billing.payment.dunning import Policy
from billing.payment.models import Collection, StripeCustomer, StripeEvent
from billing.payment.stripe_api import StripeApi
from billing.payment.stripe_items import stripe_items
from pydantic import SecretStr
from tally_stack.stripe_local import signed_headers
from tally_stack.testing import serving_aiohttp

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "stripe" / "invoicing"
DECLINED_METHOD = "pm_card_chargeDeclined"
POLICY = Policy(collect_by="invoice")


def fixture(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / f"{name}.json").read_text())
    return loaded


def form(body: str) -> dict[str, Any]:
    """Stripe's form encoding, for the shapes these calls send: `a=1`, `a[b]=2`, `expand[0]=x`."""
    parsed: dict[str, Any] = {}
    for key, value in parse_qsl(body):
        name, _, sub = key.partition("[")
        if sub:
            parsed.setdefault(name, {})[sub.rstrip("]")] = value
        else:
            parsed[name] = value
    return parsed


@dataclass
class StripeInvoicing:
    """What the server holds: its invoices by id, the payment methods charged, the requests it answered."""

    url: str = ""
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    charged: list[tuple[str, int, str]] = field(default_factory=list)  # (invoice, amount, payment method)
    unavailable: set[str] = field(default_factory=set)  # routes answering 503 while named here
    _saved: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)

    def new_id(self, prefix: str) -> str:
        return f"{prefix}_Rec{uuid4().hex[:14]}"

    def of_customer(self, customer: str) -> list[dict[str, Any]]:
        return [invoice for invoice in self.invoices.values() if invoice["customer"] == customer]

    def charges_of(self, customer: str) -> list[tuple[str, int, str]]:
        """The charges of one customer's invoices (a run also collects what other tests left due)."""
        theirs = {invoice["id"] for invoice in self.of_customer(customer)}
        return [charge for charge in self.charged if charge[0] in theirs]


def listing(data: list[dict[str, Any]], url: str) -> dict[str, Any]:
    return {"object": "list", "data": data, "has_more": False, "url": url}


def stripe_app(state: StripeInvoicing) -> web.Application:
    table = web.RouteTableDef()

    def answer(status: int, body: dict[str, Any]) -> web.Response:
        return web.json_response(body, status=status, headers={"Request-Id": state.new_id("req")})

    @web.middleware
    async def stripe_like(request: web.Request, handler: Any) -> web.StreamResponse:
        route = request.match_info.route.name or ""
        if route in state.unavailable:
            return answer(503, {"error": {"type": "api_error", "message": "unavailable"}})
        key = request.headers.get("Idempotency-Key")
        if request.method == "POST" and key in state._saved:
            return answer(*state._saved[key])
        response: web.Response = await handler(request)
        if request.method == "POST" and key:
            state._saved[key] = (response.status, json.loads(response.text or "{}"))
        return response

    @table.get("/v1/invoices", name="list")
    async def list_invoices(request: web.Request) -> web.Response:
        return answer(200, listing(state.of_customer(request.query["customer"]), "/v1/invoices"))

    @table.post("/v1/invoices", name="create")
    async def create(request: web.Request) -> web.Response:
        params = form(await request.text())
        invoice = fixture("invoice") | {
            "id": state.new_id("in"),
            "customer": params["customer"],
            "currency": params["currency"],
            "description": params.get("description"),
            "metadata": params.get("metadata", {}),
        }
        invoice["lines"] = listing([], f"/v1/invoices/{invoice['id']}/lines")
        state.invoices[invoice["id"]] = invoice
        return answer(200, invoice)

    @table.post("/v1/invoiceitems", name="item")
    async def add_item(request: web.Request) -> web.Response:
        params = form(await request.text())
        invoice = state.invoices[params["invoice"]]
        if invoice["status"] != "draft":
            return answer(400, {"error": {"type": "invalid_request_error", "message": "invoice is not a draft"}})
        amount, period = int(params["amount"]), {k: int(v) for k, v in params["period"].items()}
        item = fixture("invoiceitem") | {"id": state.new_id("ii"), "amount": amount, "invoice": invoice["id"]}
        item |= {"description": params["description"], "metadata": params.get("metadata", {}), "period": period}
        line = fixture("invoice_line_item") | {k: item[k] for k in ("amount", "description", "metadata", "period")}
        invoice["lines"]["data"].append(line | {"id": state.new_id("il"), "invoice": invoice["id"]})
        invoice["subtotal"] = invoice["total"] = invoice["amount_due"] = invoice["total"] + amount
        return answer(200, item)

    @table.get("/v1/invoices/{id}/lines", name="lines")
    async def lines(request: web.Request) -> web.Response:
        return answer(200, state.invoices[request.match_info["id"]]["lines"])

    @table.post("/v1/invoices/{id}/finalize", name="finalize")
    async def finalize(request: web.Request) -> web.Response:
        invoice = state.invoices[request.match_info["id"]]
        invoice |= {"status": "open", "number": f"REC-{len(state.invoices):04d}", "amount_remaining": invoice["total"]}
        return answer(200, invoice)

    @table.post("/v1/invoices/{id}/pay", name="pay")
    async def pay(request: web.Request) -> web.Response:
        invoice, method = state.invoices[request.match_info["id"]], form(await request.text())["payment_method"]
        if invoice["status"] not in ("open", "uncollectible"):
            return answer(
                400, {"error": {"type": "invalid_request_error", "message": f"invoice is {invoice['status']}"}}
            )
        invoice["attempt_count"] += 1
        if method == DECLINED_METHOD:
            return answer(402, fixture("card_declined"))
        payment = copy.deepcopy(fixture("invoice_payment"))
        payment["payment"]["payment_intent"] |= {"id": state.new_id("pi"), "amount": invoice["total"]}
        payment |= {"id": state.new_id("inpay"), "invoice": invoice["id"], "amount_paid": invoice["total"]}
        invoice |= {"status": "paid", "amount_paid": invoice["total"], "amount_remaining": 0}
        invoice["payments"]["data"] = [payment]
        state.charged.append((invoice["id"], invoice["total"], method))
        return answer(200, invoice)

    @table.post("/v1/invoices/{id}/void", name="void")
    @table.post("/v1/invoices/{id}/mark_uncollectible", name="mark_uncollectible")
    async def close(request: web.Request) -> web.Response:
        invoice = state.invoices[request.match_info["id"]]
        if invoice["status"] not in ("open", "uncollectible"):
            return answer(
                400, {"error": {"type": "invalid_request_error", "message": f"invoice is {invoice['status']}"}}
            )
        invoice["status"] = "void" if request.path.endswith("/void") else "uncollectible"
        return answer(200, invoice)

    @table.get("/v1/invoices/{id}", name="retrieve")
    async def retrieve(request: web.Request) -> web.Response:
        return answer(200, state.invoices[request.match_info["id"]])

    app = web.Application(middlewares=[stripe_like])
    app.add_routes(table)
    return app


@pytest.fixture
async def stripe_invoicing() -> AsyncIterator[StripeInvoicing]:
    state = StripeInvoicing()
    async with serving_aiohttp(stripe_app(state)) as base_url:
        state.url = base_url
        yield state


@pytest.fixture
def api(stripe_invoicing: StripeInvoicing) -> StripeApi:
    return StripeApi(SecretStr("sk_test_recorded"), stripe_invoicing.url, retries=0)


async def finalized(kit: Any, method: str) -> tuple[str, str]:
    """A subscribed customer (20% tax) whose first invoice is finalized and who pays by `method` in Stripe:
    (invoice id, Stripe customer id)."""
    meter, _ = await kit.count_meter()
    plan = await kit.plan(meter)
    acme = await kit.customer(tax_rate="0.2")
    await kit.created("/v1/subscriptions", {"customer_id": acme["id"], "plan_key": plan})
    [invoice] = (await kit.api.get("/v1/invoices", params={"customer_id": acme["id"]})).json()["data"]
    assert (await kit.api.post(f"/v1/invoices/{invoice['id']}/finalize")).status_code == 200
    stripe_customer = f"cus_Rec{uuid4().hex[:10]}"
    async with kit.sessions() as session, session.begin():
        session.add(
            StripeCustomer(customer_id=acme["id"], stripe_customer_id=stripe_customer, payment_method_id=method)
        )
    return invoice["id"], stripe_customer


async def read(kit: Any, invoice_id: str) -> tuple[dict[str, Any], Collection]:
    invoice = (await kit.api.get(f"/v1/invoices/{invoice_id}")).json()
    async with kit.sessions() as session:
        found = await session.get(Collection, invoice_id)
        assert found is not None
        return invoice, found


async def test_an_invoice_is_paid_through_its_stripe_twin_with_the_same_lines_and_total(
    kit: Any, api: StripeApi, stripe_invoicing: StripeInvoicing
) -> None:
    invoice_id, stripe_customer = await finalized(kit, "pm_card_visa")
    await collection.run(kit.sessions, api, POLICY, datetime.now(UTC))

    invoice, paid = await read(kit, invoice_id)
    assert invoice["status"] == "paid"
    [twin] = stripe_invoicing.of_customer(stripe_customer)
    assert twin["metadata"] == {"tally_invoice_id": invoice_id, "tally_invoice_number": invoice["number"]}
    assert twin["status"] == "paid" and twin["total"] == invoice["total_minor"]
    amounts = [line["amount"] for line in twin["lines"]["data"]]
    assert amounts == [line["amount_minor"] for line in invoice["lines"]] + [invoice["tax_minor"]]
    assert stripe_invoicing.charges_of(stripe_customer) == [(twin["id"], invoice["total_minor"], "pm_card_visa")]
    assert (paid.status, paid.attempts, paid.stripe_invoice_id) == ("paid", 1, twin["id"])
    assert paid.payment_intent_id == twin["payments"]["data"][0]["payment"]["payment_intent"]["id"]


async def test_an_attempt_that_died_between_steps_finishes_the_stripe_invoice_it_began(
    kit: Any, api: StripeApi, stripe_invoicing: StripeInvoicing
) -> None:
    """The worker made the Stripe invoice and one item, then died before its transaction committed (so Tally stored
    nothing): the next attempt finds that invoice by its metadata, adds only the missing items, and pays once."""
    invoice_id, stripe_customer = await finalized(kit, "pm_card_visa")
    invoice = (await kit.api.get(f"/v1/invoices/{invoice_id}")).json()
    begun = await api.create_invoice(stripe_customer, invoice_id, invoice["number"], invoice["currency"])
    async with kit.sessions() as session:
        items = stripe_items(await invoices.get_invoice(session, invoice_id))
    await api.add_items(stripe_customer, begun.id, invoice["currency"], items[:1])

    await collection.run(kit.sessions, api, POLICY, datetime.now(UTC))

    [twin] = stripe_invoicing.of_customer(stripe_customer)
    assert twin["id"] == begun.id and twin["status"] == "paid"
    assert [line["metadata"]["tally_item"] for line in twin["lines"]["data"]] == [item.key for item in items]
    assert twin["total"] == invoice["total_minor"]
    assert len(stripe_invoicing.charges_of(stripe_customer)) == 1


async def test_a_declined_card_starts_dunning_and_the_retry_pays_the_same_stripe_invoice_with_the_new_card(
    kit: Any, api: StripeApi, stripe_invoicing: StripeInvoicing
) -> None:
    invoice_id, stripe_customer = await finalized(kit, DECLINED_METHOD)
    now = datetime.now(UTC)
    await collection.run(kit.sessions, api, POLICY, now)
    invoice, failing = await read(kit, invoice_id)
    assert invoice["status"] == "finalized"
    assert (failing.status, failing.attempts, failing.last_error) == ("due", 1, "card_declined")
    assert failing.next_attempt_at == now + timedelta(days=3)

    async with kit.sessions() as session, session.begin():  # the customer gives a new card (customer.updated)
        payer = await session.get(StripeCustomer, invoice["customer_id"])
        assert payer is not None
        payer.payment_method_id = "pm_card_mastercard"
    await collection.run(kit.sessions, api, POLICY, now + timedelta(days=3, seconds=1))

    invoice, paid = await read(kit, invoice_id)
    [twin] = stripe_invoicing.of_customer(stripe_customer)
    assert invoice["status"] == "paid" and (paid.status, paid.attempts) == ("paid", 2)
    assert twin["attempt_count"] == 2
    assert stripe_invoicing.charges_of(stripe_customer) == [(twin["id"], invoice["total_minor"], "pm_card_mastercard")]


async def test_stripe_down_while_paying_is_tried_again_later_with_the_same_key_and_charges_once(
    kit: Any, api: StripeApi, stripe_invoicing: StripeInvoicing
) -> None:
    invoice_id, stripe_customer = await finalized(kit, "pm_card_visa")
    now = datetime.now(UTC)
    stripe_invoicing.unavailable.add("pay")
    await collection.run(kit.sessions, api, POLICY, now)
    _, waiting = await read(kit, invoice_id)
    assert waiting.status == "due" and waiting.attempts == 0 and waiting.stripe_invoice_id is not None
    assert waiting.next_attempt_at == now + collection.UNREACHABLE_RETRY

    stripe_invoicing.unavailable.clear()
    await collection.run(kit.sessions, api, POLICY, now + collection.UNREACHABLE_RETRY)
    await collection.run(kit.sessions, api, POLICY, now + collection.UNREACHABLE_RETRY * 2)  # nothing left to do
    invoice, paid = await read(kit, invoice_id)
    assert invoice["status"] == "paid" and (paid.status, paid.attempts) == ("paid", 1)
    assert len(stripe_invoicing.of_customer(stripe_customer)) == 1
    assert len(stripe_invoicing.charges_of(stripe_customer)) == 1


async def test_stripes_report_of_a_failure_tally_saw_itself_changes_nothing_and_its_paid_report_pays(
    kit: Any, api: StripeApi, stripe_invoicing: StripeInvoicing, billing_settings: BillingSettings
) -> None:
    invoice_id, stripe_customer = await finalized(kit, DECLINED_METHOD)
    now = datetime.now(UTC)
    await collection.run(kit.sessions, api, POLICY, now)
    [twin] = stripe_invoicing.of_customer(stripe_customer)
    secret = billing_settings.webhook_secrets()[-1]
    for kind in ("invoice.payment_failed", "invoice.paid"):  # the second as after the customer paid on their own
        event = {"id": f"evt_{uuid4().hex}", "object": "event", "type": kind, "data": {"object": twin}}
        body = json.dumps(event).encode()
        assert (
            await kit.api.post("/v1/webhooks/stripe", content=body, headers=signed_headers(body, secret))
        ).status_code == 200
        await webhooks.handle_inbox(kit.sessions, api, POLICY, now)
        async with kit.sessions() as session:
            handled = await session.get(StripeEvent, event["id"])
            assert handled is not None
            outcomes = handled.outcome
        if kind == "invoice.payment_failed":
            assert outcomes == "Tally's own attempt: handled when it was made"
            _, failing = await read(kit, invoice_id)
            assert (failing.status, failing.attempts) == ("due", 1)
    invoice, paid = await read(kit, invoice_id)
    assert outcomes == "paid" and invoice["status"] == "paid" and paid.status == "paid"


async def test_an_invoice_voided_or_given_up_in_tally_is_closed_in_stripe_too(
    kit: Any, api: StripeApi, stripe_invoicing: StripeInvoicing
) -> None:
    """So that nobody pays in Stripe what Tally no longer asks for."""
    voided, voided_payer = await finalized(kit, DECLINED_METHOD)
    given_up, given_up_payer = await finalized(kit, DECLINED_METHOD)
    now = datetime.now(UTC)
    await collection.run(kit.sessions, api, POLICY, now)
    assert (await kit.api.post(f"/v1/invoices/{voided}/void")).status_code == 200
    await collection.run(kit.sessions, api, POLICY, now + timedelta(minutes=1))
    [twin] = stripe_invoicing.of_customer(voided_payer)
    assert twin["status"] == "void"
    _, closed = await read(kit, voided)
    assert closed.stripe_invoice_status == "void"

    for day in (3, 5, 7):  # every retry declined, then the grace period ends
        await collection.run(kit.sessions, api, POLICY, now + timedelta(days=day, seconds=1))
    await collection.run(kit.sessions, api, POLICY, now + timedelta(days=14, seconds=1))
    invoice, _ = await read(kit, given_up)
    [twin] = stripe_invoicing.of_customer(given_up_payer)
    assert invoice["status"] == "uncollectible" and twin["status"] == "uncollectible"
    assert twin["attempt_count"] == 4
