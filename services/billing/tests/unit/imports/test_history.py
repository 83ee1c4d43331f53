"""A Stripe subscription's and invoice's past as the steps a live Tally would have taken, and where it stands now."""

from dataclasses import replace
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from billing.imports.history import invoice_steps, overdue_since, standing, steps_after, subscription_history
from billing.imports.stripe_objects import Invoice, Subscription
from billing.imports.stripe_prices import read_item, read_plan
from billing.rating.periods import Period


def at(day: str) -> datetime:
    return datetime.fromisoformat(day).replace(tzinfo=UTC)


NOW = at("2026-11-20T12:00")
PRO = read_plan(
    [
        read_item(
            {"price": {"id": "price_1", "currency": "usd", "unit_amount": 4900, "recurring": {"interval": "month"}}}
        )
    ]
)
ACTIVE = Subscription(
    id="sub_1",
    customer="cus_1",
    status="active",
    created=at("2026-08-01"),
    start=at("2026-08-01"),
    trial_start=None,
    trial_end=None,
    period_start=at("2026-11-01"),
    period_end=at("2026-12-01"),
    billing_cycle_anchor=at("2026-08-01"),
    cancel_at_period_end=False,
    canceled_at=None,
    ended_at=None,
    plan=PRO,
    problem=None,
)


def steps(sub: Subscription, overdue: datetime | None = None) -> list[tuple[str, datetime, str]]:
    return [(state.change, state.at, state.status) for state in subscription_history(sub, "month", NOW, overdue)]


def test_a_live_subscription_stands_in_stripes_current_period() -> None:
    now = standing(ACTIVE, "month", NOW)
    assert (now.anchor, now.period) == (at("2026-08-01"), Period(at("2026-11-01"), at("2026-12-01")))


def test_a_period_stripe_shows_over_is_rolled_on_to_the_one_open_now() -> None:
    stale = replace(ACTIVE, period_start=at("2026-08-01"), period_end=at("2026-09-01"), billing_cycle_anchor=None)
    assert standing(stale, "month", NOW).period == Period(at("2026-11-01"), at("2026-12-01"))
    canceled = replace(stale, status="canceled", ended_at=at("2026-08-20"))
    assert standing(canceled, "month", NOW).period == Period(at("2026-08-01"), at("2026-09-01"))  # as it ended


def test_a_trialing_subscription_stands_in_its_trial() -> None:
    trialing = replace(ACTIVE, status="trialing", trial_start=at("2026-11-15"), trial_end=at("2026-11-29"))
    trialing = replace(trialing, start=at("2026-11-15"))
    now = standing(trialing, "month", NOW)
    assert (now.anchor, now.period) == (at("2026-11-29"), Period(at("2026-11-15"), at("2026-11-29")))
    assert steps(trialing) == [("created", at("2026-11-15"), "trialing")]


def test_an_active_subscription_was_created_once() -> None:
    [created] = subscription_history(ACTIVE, "month", NOW, None)
    assert (created.change, created.at, created.status) == ("created", at("2026-08-01"), "active")
    assert (created.period_start, created.period_end) == (at("2026-08-01"), at("2026-09-01"))  # its first period


def test_a_trial_ends_then_payments_fail() -> None:
    sub = replace(ACTIVE, status="past_due", trial_start=at("2026-08-01"), trial_end=at("2026-08-15"))
    assert steps(sub, overdue=at("2026-11-01T10:00")) == [
        ("created", at("2026-08-01"), "trialing"),
        ("status_changed", at("2026-08-15"), "active"),
        ("status_changed", at("2026-11-01T10:00"), "past_due"),
    ]
    assert steps(replace(sub, status="unpaid"))[-1] == ("status_changed", NOW, "unpaid")  # no unpaid invoice seen


def test_a_cancellation_at_period_end_is_scheduled_then_ends_it() -> None:
    scheduled = replace(ACTIVE, cancel_at_period_end=True, canceled_at=at("2026-11-10"))
    assert steps(scheduled)[-1] == ("cancel_scheduled", at("2026-11-10"), "active")
    ended = replace(scheduled, status="canceled", ended_at=at("2026-12-01"))
    history = subscription_history(ended, "month", at("2026-12-05"), None)
    assert [(s.change, s.at, s.status, s.cancel_at_period_end) for s in history] == [
        ("created", at("2026-08-01"), "active", False),
        ("cancel_scheduled", at("2026-11-10"), "active", True),
        ("canceled", at("2026-12-01"), "canceled", True),
    ]
    assert (history[-1].canceled_at, history[-1].ended_at) == (at("2026-11-10"), at("2026-12-01"))


def test_an_immediate_cancellation_is_one_step_and_localstripes_too() -> None:
    now = replace(ACTIVE, status="canceled", canceled_at=at("2026-09-03"), ended_at=at("2026-09-03"))
    assert steps(now)[1:] == [("canceled", at("2026-09-03"), "canceled")]
    localstripe = replace(ACTIVE, status="canceled", canceled_at=None, ended_at=at("2026-09-03"))
    assert steps(localstripe)[1:] == [("canceled", at("2026-09-03"), "canceled")]


def test_steps_never_go_back_in_time() -> None:
    odd = replace(ACTIVE, status="past_due")
    assert steps(odd, overdue=at("2026-07-01"))[-1] == ("status_changed", at("2026-08-01"), "past_due")


def invoice(status: str, **moments: datetime | None) -> Invoice:
    return Invoice(
        id="in_1",
        customer="cus_1",
        subscription="sub_1",
        number="A-1",
        status=status,
        currency="USD",
        created=at("2026-09-01T09:00"),
        finalized_at=moments.get("finalized_at", at("2026-09-01T10:00")),
        paid_at=moments.get("paid_at"),
        voided_at=moments.get("voided_at"),
        uncollectible_at=moments.get("uncollectible_at"),
        period_start=at("2026-09-01"),
        period_end=at("2026-10-01"),
        lines=(),
        subtotal_minor=4900,
        credits_applied_minor=0,
        tax_minor=0,
        total_minor=4900,
        tax_rate=Decimal(0),
        amount_paid_minor=0,
        attempts=1,
        payment_intent=None,
        payment_on_invoice=False,
    )


@pytest.mark.parametrize(
    ("found", "expected"),
    [
        (invoice("draft", finalized_at=None), []),
        (invoice("open"), ["finalize"]),
        (invoice("paid", paid_at=at("2026-09-01T10:01")), ["finalize", "pay"]),
        (invoice("void", voided_at=at("2026-09-02")), ["finalize", "void"]),
        (invoice("uncollectible"), ["finalize", "mark_uncollectible"]),
        (
            invoice("paid", uncollectible_at=at("2026-09-20"), paid_at=at("2026-09-25")),
            ["finalize", "mark_uncollectible", "pay"],
        ),
    ],
)
def test_an_invoice_takes_the_steps_to_its_status(found: Invoice, expected: list[str]) -> None:
    assert [action for action, _ in invoice_steps(found)] == expected


def test_an_invoice_imported_before_takes_only_the_steps_it_missed() -> None:
    paid = invoice_steps(invoice("paid", paid_at=at("2026-09-25")))
    assert steps_after(paid, "finalized") == [("pay", at("2026-09-25"))]
    assert steps_after(paid, "paid") == []
    assert steps_after(paid, "void") is None  # voided in Tally since: left alone
    unknown = invoice("paid", finalized_at=None, paid_at=None)
    assert invoice_steps(unknown) == [("finalize", at("2026-09-01T09:00")), ("pay", at("2026-09-01T09:00"))]


def test_a_subscription_is_overdue_since_its_oldest_unpaid_invoice() -> None:
    invoices = [
        invoice("paid"),
        replace(invoice("open"), finalized_at=at("2026-11-01")),
        replace(invoice("uncollectible"), finalized_at=at("2026-10-01")),
        replace(invoice("open"), finalized_at=at("2026-09-01"), subscription="sub_other"),
    ]
    assert overdue_since(invoices, "sub_1") == at("2026-10-01")
    assert overdue_since(invoices[:1], "sub_1") is None
    assert overdue_since([], "sub_1") is None
