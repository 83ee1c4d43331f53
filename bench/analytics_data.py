"""A synthetic SaaS history as billing.events.v1 messages: customers signing up over 24 months (growing), a plan
mix with yearly plans and trials, monthly invoices with usage lines and their payments (some failing), upgrades,
downgrades, churn and returns. Built as plain JSON (fast); a sample is checked against the contracts' models."""

import random
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

START = datetime(2024, 11, 1, tzinfo=UTC)
MONTHS = 24
PLANS = (("starter", 4900), ("pro", 9900), ("business", 19900), ("enterprise", 49900))
PLAN_WEIGHTS = (55, 28, 12, 5)
YEARLY_SHARE, TRIAL_SHARE, FAILED_PAYMENT_SHARE = 0.15, 0.2, 0.03
MONTHLY_CHURN, MONTHLY_UPGRADE, MONTHLY_DOWNGRADE, RETURN_SHARE = 0.025, 0.02, 0.008, 0.15


def month_start(index: int) -> datetime:
    year, month = divmod(START.month - 1 + index, 12)
    return START.replace(year=START.year + year, month=month + 1)


def _time(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


@dataclass
class Story:
    rng: random.Random
    currency: str = "USD"
    ids: Iterator[int] = field(default_factory=lambda: iter(range(1, 1 << 62)))
    records: list[tuple[bytes, bytes]] = field(default_factory=list)

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{next(self.ids):012d}"

    def emit(self, event_type: str, customer: str, data: dict[str, Any], moment: datetime) -> None:
        event = {
            "specversion": "1.0",
            "id": self._id("evt"),
            "source": "bench/analytics",
            "type": event_type,
            "subject": customer,
            "time": _time(moment),
            "data": data,
        }
        self.records.append((customer.encode(), orjson.dumps(event)))

    def customer(self, moment: datetime) -> str:
        customer = self._id("cus")
        data = {
            "customer_id": customer,
            "external_id": f"ext-{customer}",
            "name": customer,
            "currency": self.currency,
            "tax_rate": "0",
            "metadata": {},
            "updated_at": _time(moment),
        }
        self.emit("tally.customer.created", customer, data, moment)
        return customer

    def subscription(  # noqa: PLR0917 (the parts of one change)
        self,
        customer: str,
        sub: str,
        terms: dict[str, Any],
        previous: dict[str, Any] | None,
        change: str,
        moment: datetime,
    ) -> None:
        data = {
            "subscription_id": sub,
            "customer_id": customer,
            "currency": self.currency,
            "terms": terms,
            "previous": previous,
            "change": change,
            "started_at": _time(moment),
            "trial_end": None,
            "current_period_start": _time(moment),
            "current_period_end": _time(moment + timedelta(days=30)),
            "cancel_at_period_end": False,
            "canceled_at": None,
            "effective_at": _time(moment),
        }
        kind = {"created": "created", "canceled": "canceled"}.get(change, "updated")
        self.emit(f"tally.subscription.{kind}", customer, data, moment)

    def invoice(self, customer: str, sub: str, moment: datetime, base: int) -> None:
        invoice = self._id("inv")
        usage = self.rng.choice((0, 0, 250, 800, 2400))
        end = moment + timedelta(days=30)
        lines = [
            {
                "kind": "base_fee",
                "meter": None,
                "quantity": None,
                "amount_minor": base,
                "period_start": _time(moment),
                "period_end": _time(end),
            },
            {
                "kind": "usage",
                "meter": "api_calls",
                "quantity": str(usage),
                "amount_minor": usage,
                "period_start": _time(moment - timedelta(days=30)),
                "period_end": _time(moment),
            },
        ]
        data = {
            "invoice_id": invoice,
            "number": invoice[-10:],
            "customer_id": customer,
            "subscription_id": sub,
            "status": "finalized",
            "currency": self.currency,
            "period_start": _time(moment),
            "period_end": _time(end),
            "subtotal_minor": base + usage,
            "credits_applied_minor": 0,
            "tax_minor": 0,
            "total_minor": base + usage,
            "lines": lines,
            "finalized_at": _time(moment),
            "changed_at": _time(moment),
        }
        self.emit("tally.invoice.finalized", customer, data, moment)
        paid_at = moment + timedelta(hours=1)
        payment = {
            "invoice_id": invoice,
            "customer_id": customer,
            "subscription_id": sub,
            "amount_minor": base + usage,
            "currency": self.currency,
            "attempt": 1,
            "occurred_at": _time(paid_at),
        }
        if self.rng.random() < FAILED_PAYMENT_SHARE:
            self.emit("tally.payment.failed", customer, payment | {"reason": "card_declined"}, paid_at)
            paid_at += timedelta(days=3)
            payment |= {"attempt": 2, "occurred_at": _time(paid_at)}
        self.emit("tally.payment.succeeded", customer, payment, paid_at)
        self.emit("tally.invoice.paid", customer, data | {"status": "paid", "changed_at": _time(paid_at)}, paid_at)


def _terms(plan: int, yearly: bool, status: str) -> dict[str, Any]:
    key, price = PLANS[plan]
    base = price * 10 if yearly else price
    mrr = 0 if status in ("trialing", "canceled") else (base + 6) // 12 if yearly else base
    return {
        "plan_key": key + ("-yearly" if yearly else ""),
        "plan_version": 1,
        "status": status,
        "interval": "year" if yearly else "month",
        "base_price_minor": base,
        "mrr_minor": mrr,
    }


def _life(story: Story, customer: str, first: int) -> None:
    rng = story.rng
    plan = rng.choices(range(len(PLANS)), PLAN_WEIGHTS)[0]
    yearly, month = rng.random() < YEARLY_SHARE, first
    while month < MONTHS:
        sub = story._id("sub")
        moment = month_start(month) + timedelta(days=rng.randrange(28), hours=rng.randrange(24))
        terms = _terms(plan, yearly, "active")
        if rng.random() < TRIAL_SHARE and month == first:
            story.subscription(customer, sub, _terms(plan, yearly, "trialing"), None, "created", moment)
            moment += timedelta(days=14)
            story.subscription(customer, sub, terms, _terms(plan, yearly, "trialing"), "status_changed", moment)
        else:
            story.subscription(customer, sub, terms, None, "created", moment)
        month = _paying(story, customer, sub, terms, month, moment)
        if month >= MONTHS or rng.random() > RETURN_SHARE:
            return
        month += rng.randrange(2, 6)


def _paying(  # noqa: PLR0917 (one subscription's paying months)
    story: Story, customer: str, sub: str, terms: dict[str, Any], month: int, moment: datetime
) -> int:
    """Invoices, plan changes and the churn of one subscription; returns the month after it ended (or MONTHS)."""
    rng = story.rng
    yearly = terms["interval"] == "year"
    plan = next(n for n, (key, _) in enumerate(PLANS) if terms["plan_key"].startswith(key))
    first = month
    while month < MONTHS:
        if not yearly or (month - first) % 12 == 0:
            story.invoice(customer, sub, moment, terms["base_price_minor"])
        month += 1
        moment = min(moment + timedelta(days=30), month_start(month) + timedelta(days=27))
        roll = rng.random()
        if roll < MONTHLY_CHURN:
            story.subscription(customer, sub, _terms(plan, yearly, "canceled"), terms, "canceled", moment)
            return month
        if roll < MONTHLY_CHURN + MONTHLY_UPGRADE and plan + 1 < len(PLANS):
            plan += 1
        elif roll < MONTHLY_CHURN + MONTHLY_UPGRADE + MONTHLY_DOWNGRADE and plan > 0:
            plan -= 1
        else:
            continue
        new = _terms(plan, yearly, "active")
        story.subscription(customer, sub, new, terms, "plan_changed", moment)
        terms = new
    return month


def history(customers: int, seed: int = 6) -> list[tuple[bytes, bytes]]:
    """(key, value) records; customers sign up over the 24 months, more each month (a growing business)."""
    story = Story(random.Random(seed))
    weights = [1.0 + n / 8 for n in range(MONTHS)]
    for first in story.rng.choices(range(MONTHS), weights, k=customers):
        moment = month_start(first) + timedelta(days=story.rng.randrange(28))
        _life(story, story.customer(moment), first)
    return story.records
