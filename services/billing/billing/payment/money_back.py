"""Money given back on a payment, read from Stripe's objects (plain dicts): a refund, or a dispute. Each is one fact
with Stripe's own id, amount and moment, so that facts from a webhook and from an import add up without counting
one twice, whatever order they come in. Pure: no I/O."""

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

Raw = Mapping[str, Any]
# A pending refund is counted, as Stripe counts it in the charge's `amount_refunded`; a failed or canceled one is not.
REFUNDED = ("succeeded", "pending", "requires_action")


@dataclass(frozen=True)
class MoneyBack:
    stripe_id: str  # re_... or dp_...
    kind: Literal["refund", "dispute"]
    amount_minor: int
    currency: str
    reason: str
    at: datetime  # when it happened in Stripe
    payment_intent: str | None
    charge: str | None


def refund_of(raw: Raw) -> MoneyBack | None:
    """The refund, unless it gave nothing back (failed, canceled)."""
    if raw.get("status") not in REFUNDED:
        return None
    return MoneyBack(
        stripe_id=str(raw["id"]),
        kind="refund",
        amount_minor=int(raw["amount"]),
        currency=str(raw["currency"]).upper(),
        reason="refunded",  # what the webhook path has always said; Stripe's reason (e.g. duplicate) is optional
        at=datetime.fromtimestamp(int(raw["created"]), UTC),
        payment_intent=_id(raw.get("payment_intent")),
        charge=_id(raw.get("charge")),
    )


def dispute_of(raw: Raw, received_at: datetime) -> MoneyBack:
    """The dispute, for its amount: the money is held from the moment it opens. `received_at` stands in for a
    payload without its `created`."""
    created = raw.get("created")
    return MoneyBack(
        stripe_id=str(raw["id"]),
        kind="dispute",
        amount_minor=int(raw["amount"]),
        currency=str(raw["currency"]).upper(),
        reason=str(raw.get("reason") or "disputed")[:500],
        at=received_at if created is None else datetime.fromtimestamp(int(created), UTC),
        payment_intent=_id(raw.get("payment_intent")),
        charge=_id(raw.get("charge")),
    )


def by_payment_intent(facts: Iterable[MoneyBack]) -> dict[str, list[MoneyBack]]:
    """The facts of each payment intent, oldest first (those naming none are left out: Tally knows a payment by its
    intent)."""
    found: dict[str, list[MoneyBack]] = {}
    for fact in sorted(facts, key=lambda f: (f.at, f.stripe_id)):
        if fact.payment_intent:
            found.setdefault(fact.payment_intent, []).append(fact)
    return found


def _id(value: Any) -> str | None:
    """An id, whether Stripe gave the object expanded or not."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None
