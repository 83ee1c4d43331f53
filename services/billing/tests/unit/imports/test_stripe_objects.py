"""Reading Stripe's objects, in the current API shape and in the older one localstripe serves."""

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from billing.imports.stripe_objects import (
    payment_intent_of,
    read_customer,
    read_invoice,
    read_subscription,
)
from hypothesis import given
from hypothesis import strategies as st

T0 = 1_767_225_600  # 2026-01-01T00:00:00Z
MONTH = 31 * 86_400


def at(seconds: int) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def price(**fields: Any) -> dict[str, Any]:
    found = {
        "id": "price_1QxPro",
        "object": "price",
        "currency": "usd",
        "unit_amount": 4900,
        "billing_scheme": "per_unit",
        "type": "recurring",
        "product": "prod_1",
        "nickname": "Pro monthly",
        "recurring": {"interval": "month", "interval_count": 1, "usage_type": "licensed"},
    }
    return found | fields


def legacy_plan(**fields: Any) -> dict[str, Any]:
    """A plan as localstripe shows it on subscription items and lines."""
    found = {
        "id": "plan_Ab12",
        "object": "plan",
        "amount": 2900,
        "currency": "eur",
        "interval": "month",
        "interval_count": 1,
        "usage_type": "licensed",
        "billing_scheme": "per_unit",
        "product": "prod_2",
        "nickname": None,
    }
    return found | fields


def test_a_customer_keeps_his_ids_and_what_tally_can_use() -> None:
    raw = {
        "id": "cus_Q1",
        "name": None,
        "description": "Acme Inc.",
        "email": "ap@acme.example",
        "currency": "gbp",
        "created": T0,
        "metadata": {"tally_external_id": "acme-42", "tally_customer_id": "cus_01TALLY", "plan": "gold"},
        "invoice_settings": {"default_payment_method": {"id": "pm_1", "object": "payment_method"}},
    }
    customer = read_customer(raw)
    assert (customer.name, customer.currency, customer.external_id) == ("Acme Inc.", "GBP", "acme-42")
    assert (customer.tally_customer_id, customer.payment_method, customer.created) == ("cus_01TALLY", "pm_1", at(T0))
    assert customer.metadata["stripe_customer_id"] == "cus_Q1"
    bare = read_customer({"id": "cus_Q2", "created": T0, "default_source": "card_9", "metadata": {}})
    assert (bare.name, bare.external_id, bare.payment_method, bare.currency) == ("cus_Q2", "cus_Q2", "card_9", None)
    crowded = read_customer({"id": "cus_Q3", "created": T0, "metadata": {f"k{i}": "v" for i in range(50)}})
    assert len(crowded.metadata) == 50 and crowded.metadata["stripe_customer_id"] == "cus_Q3"


def subscription(**fields: Any) -> dict[str, Any]:
    """The current API shape: the period on the item."""
    item = {"id": "si_1", "price": price(), "quantity": 1, "current_period_start": T0, "current_period_end": T0 + MONTH}
    found = {
        "id": "sub_1",
        "object": "subscription",
        "customer": "cus_Q1",
        "status": "active",
        "created": T0 - 5,
        "start_date": T0 - 3 * MONTH,
        "billing_cycle_anchor": T0 - 3 * MONTH,
        "cancel_at_period_end": False,
        "canceled_at": None,
        "ended_at": None,
        "trial_start": None,
        "trial_end": None,
        "items": {"object": "list", "data": [item], "has_more": False},
    }
    return found | fields


def test_a_subscription_is_read_in_both_shapes() -> None:
    current = read_subscription(subscription())
    assert (current.period_start, current.period_end, current.start) == (at(T0), at(T0 + MONTH), at(T0 - 3 * MONTH))
    assert (current.currency, current.problem, current.plan and current.plan.ref) == ("USD", None, "price_1QxPro")
    legacy = subscription(
        current_period_start=T0 + 1,
        current_period_end=T0 + 2,
        items={"data": [{"id": "si_2", "plan": legacy_plan(), "quantity": 1}], "has_more": False},
    )
    older = read_subscription(legacy)
    assert (older.period_start, older.period_end, older.currency) == (at(T0 + 1), at(T0 + 2), "EUR")


@pytest.mark.parametrize(
    ("fields", "problem"),
    [
        ({"status": "incomplete"}, "incomplete (its first payment never went through)"),
        ({"status": "paused"}, "paused: Tally has no paused subscriptions"),
        ({"items": {"data": [{"price": price()}, {"price": price()}]}}, "the same price twice on one subscription"),
        ({"items": {"data": [{"price": price()}], "has_more": True}}, "more prices than the 1 listed"),
        ({"items": {"data": []}}, "no prices"),
        ({"items": {"data": [{"price": price(type="one_time", recurring=None)}]}}, "not a recurring price"),
    ],
)
def test_what_a_tally_subscription_cannot_hold_is_a_problem(fields: dict[str, Any], problem: str) -> None:
    found = read_subscription(subscription(**fields)).problem
    assert found is not None and found.startswith(problem)


def line(amount: int, **fields: Any) -> dict[str, Any]:
    found = {"id": "il_1", "amount": amount, "description": "1 x Pro", "quantity": 1}
    found["period"] = {"start": T0, "end": T0 + MONTH}
    found["parent"] = {
        "type": "subscription_item_details",
        "subscription_item_details": {"proration": False, "subscription": "sub_1"},
    }
    return found | fields


def invoice(lines: list[dict[str, Any]], **fields: Any) -> dict[str, Any]:
    """The current API shape: the subscription under `parent`, no payment intent on the invoice."""
    subtotal = sum(item["amount"] for item in lines)
    found = {
        "id": "in_1",
        "object": "invoice",
        "customer": "cus_Q1",
        "number": "ABC-0001",
        "status": "paid",
        "currency": "usd",
        "created": T0,
        "status_transitions": {"finalized_at": T0 + 10, "paid_at": T0 + 20, "voided_at": None},
        "subtotal": subtotal,
        "total_excluding_tax": subtotal,
        "total": subtotal,
        "amount_due": subtotal,
        "amount_paid": subtotal,
        "attempt_count": 1,
        "parent": {"type": "subscription_details", "subscription_details": {"subscription": "sub_1"}},
        "lines": {"object": "list", "data": lines, "has_more": False},
    }
    return found | fields


def test_an_invoice_keeps_its_number_moments_and_lines() -> None:
    proration = line(-700, parent={"type": "subscription_item_details", "subscription_item_details": {"proration": 1}})
    one_off = line(1500, parent={"type": "invoice_item_details", "invoice_item_details": {"proration": False}})
    read = read_invoice(invoice([line(4900), proration, one_off]))
    assert (read.number, read.subscription, read.status, read.currency) == ("ABC-0001", "sub_1", "paid", "USD")
    assert (read.finalized_at, read.paid_at, read.voided_at) == (at(T0 + 10), at(T0 + 20), None)
    assert [(item.kind, item.amount_minor) for item in read.lines] == [
        ("base_fee", 4900),
        ("proration", -700),
        ("adjustment", 1500),
    ]
    assert (read.subtotal_minor, read.total_minor, read.tax_minor, read.credits_applied_minor) == (5700, 5700, 0, 0)
    assert (read.payment_intent, read.payment_on_invoice) == (None, False)
    assert (read.period_start, read.period_end) == (at(T0), at(T0 + MONTH))


def test_a_line_of_a_metered_price_is_usage() -> None:
    pricing = {"type": "price_details", "price_details": {"price": "price_Api"}, "unit_amount_decimal": "2"}
    raw = invoice([line(4900), line(82500, quantity=41250, pricing=pricing)])
    assert [item.kind for item in read_invoice(raw, frozenset({"price_Api"})).lines] == ["base_fee", "usage"]
    assert read_invoice(raw).lines[1].quantity == Decimal(41250)


def test_a_localstripe_invoice_is_read_too() -> None:
    raw = invoice(
        [{"id": "il_2", "amount": 2900, "type": "subscription", "plan": legacy_plan(), "period": {"start": T0}}],
        number=None,
        parent=None,
        subscription="sub_9",
        payment_intent="pi_9",
        tax=0,
        total_excluding_tax=None,
    )
    read = read_invoice(raw)
    assert (read.number, read.subscription, read.payment_intent, read.payment_on_invoice) == (
        "in_1",
        "sub_9",
        "pi_9",
        True,
    )
    assert [(item.kind, item.period_start, item.period_end) for item in read.lines] == [("base_fee", at(T0), at(T0))]
    metered = invoice([{"amount": 50, "type": "subscription", "plan": legacy_plan(usage_type="metered")}])
    assert read_invoice(metered).lines[0].kind == "usage"


def test_discounts_taxes_and_balances_add_up_to_what_was_due() -> None:
    # 150000 of lines, a 10% discount, 20% tax on the rest, 2000 of credit balance used.
    raw = invoice(
        [line(120000), line(30000)],
        total_excluding_tax=135000,
        total=162000,
        amount_due=160000,
        total_taxes=[{"amount": 27000}],
    )
    read = read_invoice(raw)
    assert [(item.kind, item.amount_minor) for item in read.lines][-1] == ("adjustment", -15000)
    assert (read.subtotal_minor, read.credits_applied_minor, read.tax_minor, read.total_minor) == (
        135000,
        2000,
        27000,
        160000,
    )
    assert read.tax_rate == Decimal("0.2030")  # 27000 over the 133000 left after the credits
    owed = read_invoice(invoice([line(4900)], amount_due=5900))  # 1000 owed from before
    assert [(item.description, item.amount_minor) for item in owed.lines][-1] == (
        "Balance owed from earlier Stripe invoices",
        1000,
    )
    assert (owed.credits_applied_minor, owed.total_minor) == (0, 5900)


@given(
    st.lists(st.integers(-(10**6), 10**7), max_size=5),
    st.integers(0, 10**7),
    st.integers(0, 10**6),
    st.integers(-(10**6), 10**6),
)
def test_the_lines_less_credits_plus_tax_are_always_what_was_due(
    amounts: list[int], pretax: int, tax: int, balance: int
) -> None:
    total = pretax + tax
    due = max(0, total - balance)
    raw = invoice([line(amount) for amount in amounts], total=total, total_excluding_tax=pretax, amount_due=due)
    read = read_invoice(raw)
    assert sum(item.amount_minor for item in read.lines) == read.subtotal_minor
    assert read.subtotal_minor - read.credits_applied_minor + read.tax_minor == read.total_minor == due
    # A credit balance pays what it can of the total; a balance owed (negative) is a line, not a credit.
    assert read.credits_applied_minor == max(0, min(balance, total))
    assert read.tax_minor == tax


def test_the_payment_intent_of_an_invoice_comes_from_its_invoice_payments() -> None:
    payments = [
        {"is_default": False, "payment": {"type": "payment_intent", "payment_intent": "pi_other"}},
        {"is_default": True, "payment": {"type": "payment_intent", "payment_intent": {"id": "pi_main"}}},
    ]
    assert payment_intent_of(payments) == "pi_main"
    assert payment_intent_of([{"payment": {"type": "charge", "charge": "ch_1"}}]) is None
    assert payment_intent_of([]) is None
