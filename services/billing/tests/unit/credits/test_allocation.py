"""First to expire, first spent: which grants cover a quantity, with examples and properties."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

import pytest
from billing.credits.allocation import Allocation, Grant, allocate, spending_order, total
from hypothesis import given
from hypothesis import strategies as st

AT = datetime(2026, 11, 30, tzinfo=UTC)
DAY = timedelta(days=1)


def grant(grant_id: str, remaining: str, *, bought: int = -10, expires: int | None = None) -> Grant:
    """Purchased and expiring `bought` / `expires` days from AT."""
    return Grant(grant_id, Decimal(remaining), AT + bought * DAY, None if expires is None else AT + expires * DAY)


def test_the_first_to_expire_is_spent_first_and_never_expiring_grants_last() -> None:
    grants = [grant("forever", "100"), grant("late", "100", expires=30), grant("soon", "100", expires=2)]
    assert allocate(grants, Decimal(250), AT) == [
        Allocation("soon", Decimal(100)),
        Allocation("late", Decimal(100)),
        Allocation("forever", Decimal(50)),
    ]


def test_equal_expiries_spend_the_oldest_purchase_then_the_lowest_id() -> None:
    grants = [
        grant("b", "10", bought=-1, expires=5),
        grant("c", "10", bought=-3, expires=5),
        grant("a", "10", bought=-1, expires=5),
    ]
    assert [a.grant_id for a in allocate(grants, Decimal(30), AT)] == ["c", "a", "b"]


def test_expired_and_future_grants_are_untouched() -> None:
    grants = [
        grant("expired", "100", bought=-30, expires=-1),
        grant("expires_now", "100", bought=-30, expires=0),  # expires_at is excluded
        grant("future", "100", bought=1),
        grant("bought_now", "5", bought=0),  # purchased_at is included
    ]
    assert allocate(grants, Decimal(50), AT) == [Allocation("bought_now", Decimal(5))]


def test_exact_fractions_and_nothing_when_nothing_is_asked() -> None:
    grants = [grant("a", "0.3", expires=1), grant("b", "1000")]
    allocations = allocate(grants, Decimal("0.7"), AT)
    assert allocations == [Allocation("a", Decimal("0.3")), Allocation("b", Decimal("0.4"))]
    assert total(allocations) == Decimal("0.7")
    assert allocate(grants, Decimal(0), AT) == []
    assert allocate([grant("empty", "0")], Decimal(5), AT) == []
    with pytest.raises(ValueError, match="negative"):
        allocate(grants, Decimal(-1), AT)


quantities = st.decimals(min_value=0, max_value=10_000, places=3)
offsets = st.integers(min_value=-60, max_value=60)


@st.composite
def grant_sets(draw: st.DrawFn) -> list[Grant]:
    count = draw(st.integers(min_value=0, max_value=8))
    grants = []
    for index in range(count):
        bought = draw(offsets)
        expires = draw(st.none() | st.integers(min_value=bought + 1, max_value=bought + 90))
        grants.append(grant(f"g{index:02d}", str(draw(quantities)), bought=bought, expires=expires))
    return grants


@given(grant_sets(), quantities)
def test_allocations_never_exceed_what_is_asked_or_held_and_cover_all_they_can(
    grants: list[Grant], asked: Decimal
) -> None:
    allocations = allocate(grants, asked, AT)
    held = {g.id: g for g in grants}
    available = sum((g.remaining for g in grants if g.live_at(AT)), Decimal(0))
    assert total(allocations) == min(asked, available)
    assert len({a.grant_id for a in allocations}) == len(allocations)
    for share in allocations:
        assert Decimal(0) < share.quantity <= held[share.grant_id].remaining
        assert held[share.grant_id].live_at(AT), "expired and not-yet-purchased grants are untouched"


@given(grant_sets(), quantities)
def test_a_later_grant_is_touched_only_once_every_earlier_one_is_used_up(grants: list[Grant], asked: Decimal) -> None:
    taken = {a.grant_id: a.quantity for a in allocate(grants, asked, AT)}
    live = sorted((g for g in grants if g.live_at(AT) and g.remaining > 0), key=spending_order)
    for earlier, later in pairwise(live):
        if later.id in taken:
            assert taken.get(earlier.id) == earlier.remaining
    touched = [g.id for g in live if g.id in taken]
    assert touched == [g.id for g in live[: len(touched)]], "a prefix of the spending order"
