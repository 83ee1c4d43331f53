"""Reading refunds and disputes from Stripe's objects: each its own amount and moment, whatever the charge's running
total; failed refunds give nothing back."""

from datetime import UTC, datetime
from typing import Any

from billing.payment.money_back import MoneyBack, by_payment_intent, dispute_of, refund_of

T0 = 1_791_100_800  # 2026-10-04T08:00:00Z
RECEIVED = datetime(2026, 11, 21, tzinfo=UTC)


def refund(**fields: Any) -> dict[str, Any]:
    found = {
        "id": "re_1",
        "object": "refund",
        "amount": 1000,
        "charge": "ch_1",
        "created": T0,
        "currency": "usd",
        "payment_intent": "pi_1",
        "reason": "requested_by_customer",
        "status": "succeeded",
    }
    return found | fields


def dispute(**fields: Any) -> dict[str, Any]:
    found = {
        "id": "dp_1",
        "object": "dispute",
        "amount": 4900,
        "charge": "ch_1",
        "created": T0,
        "currency": "eur",
        "payment_intent": "pi_1",
        "reason": "fraudulent",
        "status": "needs_response",
    }
    return found | fields


def test_a_refund_is_its_own_amount_at_its_own_moment() -> None:
    assert refund_of(refund()) == MoneyBack(
        "re_1", "refund", 1000, "USD", "refunded", datetime.fromtimestamp(T0, UTC), "pi_1", "ch_1"
    )


def test_a_refund_that_gave_nothing_back_is_none() -> None:
    assert [refund_of(refund(status=status)) for status in ("failed", "canceled")] == [None, None]
    assert refund_of(refund(status="pending")) is not None  # Stripe counts it refunded already


def test_expanded_objects_are_read_by_their_ids() -> None:
    found = refund_of(refund(payment_intent={"id": "pi_9", "object": "payment_intent"}, charge={"id": "ch_9"}))
    assert found is not None and (found.payment_intent, found.charge) == ("pi_9", "ch_9")


def test_a_dispute_is_its_amount_with_its_reason() -> None:
    found = dispute_of(dispute(), RECEIVED)
    assert (found.kind, found.amount_minor, found.currency, found.reason) == ("dispute", 4900, "EUR", "fraudulent")
    assert found.at == datetime.fromtimestamp(T0, UTC)
    assert dispute_of(dispute(created=None, reason=None), RECEIVED).at == RECEIVED
    assert dispute_of(dispute(reason=None), RECEIVED).reason == "disputed"


def test_facts_are_grouped_by_payment_intent_oldest_first() -> None:
    late = refund_of(refund(id="re_2", amount=900, created=T0 + 3 * 86_400))
    early = refund_of(refund())
    other = refund_of(refund(id="re_3", payment_intent="pi_2"))
    orphan = refund_of(refund(id="re_4", payment_intent=None))  # a charge made without a payment intent
    contested = dispute_of(dispute(created=T0 + 86_400), RECEIVED)
    facts = [f for f in (late, early, other, orphan) if f] + [contested]

    grouped = by_payment_intent(facts)

    assert {intent: [f.stripe_id for f in found] for intent, found in grouped.items()} == {
        "pi_1": ["re_1", "dp_1", "re_2"],
        "pi_2": ["re_3"],
    }
    assert sum(f.amount_minor for f in grouped["pi_1"] if f.kind == "refund") == 1900  # partial refunds add up
