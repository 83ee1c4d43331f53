"""Which grants cover a quantity of usage: pure, no I/O.

Only grants live at the moment (`purchased_at <= at < expires_at`, or no expiry) with units left are spent, the
first to expire first (grants that never expire last), then the oldest purchase, then the lowest id, so the order
is total and two runs over the same grants agree.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from billing.rating.money import exact


@dataclass(frozen=True)
class Grant:
    id: str
    remaining: Decimal
    purchased_at: datetime
    expires_at: datetime | None

    def live_at(self, at: datetime) -> bool:
        return self.purchased_at <= at and (self.expires_at is None or at < self.expires_at)


@dataclass(frozen=True)
class Allocation:
    grant_id: str
    quantity: Decimal


def spending_order(grant: Grant) -> tuple[bool, datetime, datetime, str]:
    """Sort key: the earliest expiry first, never-expiring grants last; then the oldest purchase; then the id."""
    return (grant.expires_at is None, grant.expires_at or grant.purchased_at, grant.purchased_at, grant.id)


def allocate(grants: Iterable[Grant], quantity: Decimal, at: datetime) -> list[Allocation]:
    """Up to `quantity` units from the grants live at `at`, in spending order; exact (raises decimal.Inexact
    rather than round). Sums to min(quantity, units available); a grant appears at most once."""
    if quantity < 0:
        raise ValueError("the quantity to cover must not be negative")
    allocations: list[Allocation] = []
    left = quantity
    with exact():
        for grant in sorted((g for g in grants if g.remaining > 0 and g.live_at(at)), key=spending_order):
            if left <= 0:
                break
            taken = min(left, grant.remaining)
            allocations.append(Allocation(grant.id, taken))
            left -= taken
    return allocations


def total(allocations: Iterable[Allocation]) -> Decimal:
    with exact():
        return sum((allocation.quantity for allocation in allocations), Decimal(0))
