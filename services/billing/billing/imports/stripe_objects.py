"""Pure: Stripe's API objects, as plain dicts, read into what an import writes.

Both shapes are read: the current API's (a subscription's period on its items, the invoice's subscription under
`parent`, lines typed by their `parent`, payments as separate InvoicePayments) and the older one that localstripe
serves (the period on the subscription, `invoice.subscription`, `invoice.payment_intent`, a `plan` on items and
lines); a subscription's prices are read by stripe_prices. What Tally cannot hold is not guessed at: the object gets a
`problem`, and the import skips it with that reason."""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from billing.imports.stripe_prices import Plan, read_item, read_plan

Raw = Mapping[str, Any]
STATUSES = frozenset({"trialing", "active", "past_due", "unpaid", "canceled"})
_NOT_IMPORTED = {
    "incomplete": "incomplete (its first payment never went through)",
    "incomplete_expired": "incomplete_expired (its first payment never went through)",
    "paused": "paused: Tally has no paused subscriptions",
}
_METADATA_PAIRS = 49  # Tally keeps 50, one of them the Stripe id


def moment(value: Any) -> datetime | None:
    """A Stripe timestamp (seconds since the epoch) as an aware UTC datetime."""
    return datetime.fromtimestamp(int(value), UTC) if isinstance(value, int | float) else None


def _required_moment(raw: Raw, name: str) -> datetime:
    found = moment(raw.get(name))
    if found is None:
        raise ValueError(f"{raw.get('id')}: no {name}")
    return found


def object_id(value: Any) -> str | None:
    """The id of a field Stripe may give as an id or as the expanded object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


@dataclass(frozen=True)
class Customer:
    id: str
    name: str
    email: str | None
    currency: str | None
    created: datetime
    metadata: dict[str, str]
    payment_method: str | None
    tally_customer_id: str | None  # set by Tally itself on the Stripe customers it creates for collection
    external_id: str  # metadata `tally_external_id`, else the Stripe id


def read_customer(raw: Raw) -> Customer:
    metadata = {str(key)[:40]: str(value)[:500] for key, value in (raw.get("metadata") or {}).items()}
    settings = raw.get("invoice_settings") or {}
    currency = raw.get("currency")
    return Customer(
        id=raw["id"],
        name=str(raw.get("name") or raw.get("description") or raw.get("email") or raw["id"])[:200],
        email=raw.get("email") or None,
        currency=currency.upper() if isinstance(currency, str) and currency else None,
        created=_required_moment(raw, "created"),
        metadata=dict(list(metadata.items())[:_METADATA_PAIRS]) | {"stripe_customer_id": raw["id"]},
        payment_method=object_id(settings.get("default_payment_method")) or object_id(raw.get("default_source")),
        tally_customer_id=metadata.get("tally_customer_id"),
        external_id=metadata.get("tally_external_id") or raw["id"],
    )


@dataclass(frozen=True)
class Subscription:
    id: str
    customer: str
    status: str
    created: datetime
    start: datetime
    trial_start: datetime | None
    trial_end: datetime | None
    period_start: datetime  # Stripe's current period (the last one, once canceled)
    period_end: datetime
    billing_cycle_anchor: datetime | None
    cancel_at_period_end: bool
    canceled_at: datetime | None
    ended_at: datetime | None
    plan: Plan | None  # its items' prices
    problem: str | None

    @property
    def currency(self) -> str | None:
        return self.plan.currency if self.plan else None


def read_subscription(raw: Raw) -> Subscription:
    items = raw.get("items") or {}
    data = items.get("data") or []
    first = data[0] if data else {}
    start = moment(raw.get("start_date")) or _required_moment(raw, "created")
    plan = read_plan([read_item(item) for item in data]) if data else None
    status = str(raw.get("status"))
    problem = None
    if status not in STATUSES:
        problem = _NOT_IMPORTED.get(status, f"status {status}")
    elif plan is None:
        problem = "no prices"
    elif items.get("has_more"):  # the reader lists the rest; this is a list it could not complete
        problem = f"more prices than the {len(data)} listed"
    elif plan.problem:
        problem = plan.problem
    return Subscription(
        id=raw["id"],
        customer=str(object_id(raw.get("customer"))),
        status=status,
        created=_required_moment(raw, "created"),
        start=start,
        trial_start=moment(raw.get("trial_start")),
        trial_end=moment(raw.get("trial_end")),
        period_start=moment(raw.get("current_period_start")) or moment(first.get("current_period_start")) or start,
        period_end=moment(raw.get("current_period_end")) or moment(first.get("current_period_end")) or start,
        billing_cycle_anchor=moment(raw.get("billing_cycle_anchor")),
        cancel_at_period_end=bool(raw.get("cancel_at_period_end")),
        canceled_at=moment(raw.get("canceled_at")),
        ended_at=moment(raw.get("ended_at")),
        plan=plan,
        problem=problem,
    )


@dataclass(frozen=True)
class Line:
    kind: str  # base_fee, proration, adjustment, usage
    description: str
    amount_minor: int
    quantity: Decimal | None
    period_start: datetime
    period_end: datetime


@dataclass(frozen=True)
class Invoice:
    id: str
    customer: str
    subscription: str | None
    number: str
    status: str  # Stripe's: draft, open, paid, void, uncollectible
    currency: str
    created: datetime
    finalized_at: datetime | None
    paid_at: datetime | None
    voided_at: datetime | None
    uncollectible_at: datetime | None
    period_start: datetime
    period_end: datetime
    lines: tuple[Line, ...]  # sum to subtotal_minor
    subtotal_minor: int
    credits_applied_minor: int
    tax_minor: int
    total_minor: int  # what was due: subtotal - credits + tax
    tax_rate: Decimal  # the effective rate, tax over what it was charged on
    amount_paid_minor: int
    attempts: int
    payment_intent: str | None
    payment_on_invoice: bool  # older API versions name the payment intent on the invoice itself


def read_invoice(raw: Raw, metered_prices: frozenset[str] = frozenset()) -> Invoice:
    """`metered_prices`: the customer's metered prices, whose subscription lines are usage (current API versions name
    a line's price only)."""
    created = _required_moment(raw, "created")
    transitions = raw.get("status_transitions") or {}
    listed = [_line(line, created, metered_prices) for line in (raw.get("lines") or {}).get("data") or []]
    start = min((line.period_start for line in listed), default=moment(raw.get("period_start")) or created)
    end = max((line.period_end for line in listed), default=moment(raw.get("period_end")) or created)
    lines, credits, tax = _amounts(raw, listed, start, end)
    subtotal = sum(line.amount_minor for line in lines)
    parent = (raw.get("parent") or {}).get("subscription_details") or {}
    return Invoice(
        id=raw["id"],
        customer=str(object_id(raw.get("customer"))),
        subscription=object_id(raw.get("subscription")) or object_id(parent.get("subscription")),
        number=str(raw.get("number") or raw["id"])[:40],
        status=str(raw.get("status")),
        currency=str(raw.get("currency") or "").upper(),
        created=created,
        finalized_at=moment(transitions.get("finalized_at")),
        paid_at=moment(transitions.get("paid_at")),
        voided_at=moment(transitions.get("voided_at")),
        uncollectible_at=moment(transitions.get("marked_uncollectible_at")),
        period_start=start,
        period_end=end,
        lines=tuple(lines),
        subtotal_minor=subtotal,
        credits_applied_minor=credits,
        tax_minor=tax,
        total_minor=subtotal - credits + tax,
        tax_rate=_rate(tax, subtotal - credits),
        amount_paid_minor=int(raw.get("amount_paid") or 0),
        attempts=int(raw.get("attempt_count") or 0),
        payment_intent=object_id(raw.get("payment_intent")),
        payment_on_invoice="payment_intent" in raw,
    )


def payment_intent_of(invoice_payments: Sequence[Raw]) -> str | None:
    """The payment intent of an invoice's paid InvoicePayments (the default one first)."""
    for payment in sorted(invoice_payments, key=lambda p: not p.get("is_default")):
        if found := object_id((payment.get("payment") or {}).get("payment_intent")):
            return found
    return None


def _line(raw: Raw, fallback: datetime, metered_prices: frozenset[str]) -> Line:
    parent = raw.get("parent") or {}
    details = parent.get(str(parent.get("type"))) or {}
    if parent.get("type") == "subscription_item_details":
        price = ((raw.get("pricing") or {}).get("price_details") or {}).get("price")
        kind = "proration" if details.get("proration") else "usage" if price in metered_prices else "base_fee"
    elif parent.get("type") == "invoice_item_details":
        kind = "proration" if details.get("proration") else "adjustment"
    elif raw.get("proration"):  # older API versions, localstripe
        kind = "proration"
    elif raw.get("type") == "subscription":
        kind = "usage" if (raw.get("plan") or {}).get("usage_type") == "metered" else "base_fee"
    else:
        kind = "adjustment"
    period = raw.get("period") or {}
    quantity = raw.get("quantity")
    return Line(
        kind=kind,
        description=str(raw.get("description") or kind.replace("_", " "))[:500],
        amount_minor=int(raw.get("amount") or 0),
        quantity=None if quantity is None else Decimal(str(quantity)),
        period_start=moment(period.get("start")) or fallback,
        period_end=moment(period.get("end")) or fallback,
    )


def _amounts(raw: Raw, lines: list[Line], start: datetime, end: datetime) -> tuple[list[Line], int, int]:
    """(lines, credits applied, tax), such that the lines less the credits plus the tax are what was due: invoice
    discounts (and anything else the lines do not show) become an adjustment line, a balance the customer owed
    from before another, and a credit balance used up is the credits applied."""
    total = int(raw.get("total") or 0)
    tax = _tax(raw, total)
    due = int(raw.get("amount_due", total) or 0)
    lines = list(lines)
    shown = total - tax - sum(line.amount_minor for line in lines)
    if shown:
        lines.append(Line("adjustment", "Discounts and adjustments in Stripe", shown, None, start, end))
    applied = total - due
    if applied < 0:
        lines.append(Line("adjustment", "Balance owed from earlier Stripe invoices", -applied, None, start, end))
    return lines, max(applied, 0), tax


def _tax(raw: Raw, total: int) -> int:
    if isinstance(raw.get("tax"), int):  # older API versions, localstripe
        return int(raw["tax"])
    if isinstance(raw.get("total_excluding_tax"), int):
        return total - int(raw["total_excluding_tax"])
    return sum(int(tax.get("amount") or 0) for tax in raw.get("total_taxes") or [])


def _rate(tax: int, base: int) -> Decimal:
    return (Decimal(tax) / Decimal(base)).quantize(Decimal("0.0001")) if tax and base > 0 else Decimal(0)
