import calendar
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from itertools import pairwise

from billing.rating.money import round_minor
from billing.rating.periods import Interval, Period, period_at, period_start, periods_between
from billing.rating.pricing import Charge, Tier, rate, rate_groups
from billing.rating.proration import plan_change_lines, prorated_minor
from hypothesis import given
from hypothesis import strategies as st

quantities = st.decimals(min_value=0, max_value=1_000_000, places=3)
prices = st.decimals(min_value=0, max_value=1000, places=4)
fees = st.integers(min_value=0, max_value=100_000)
amounts = st.integers(min_value=-(10**12), max_value=10**12)
intervals = st.sampled_from(["month", "year"])
moments = st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2200, 1, 1), timezones=st.just(UTC))
lengths = st.timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=800))


@st.composite
def tiers(draw: st.DrawFn, unit_prices: st.SearchStrategy[Decimal] = prices) -> tuple[Tier, ...]:
    bounds = sorted(draw(st.sets(st.decimals(min_value="0.001", max_value=100_000, places=3), max_size=5)))
    tier_prices = draw(st.lists(unit_prices, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    tier_fees = draw(st.lists(fees, min_size=len(bounds) + 1, max_size=len(bounds) + 1))
    return tuple(
        Tier(up_to, price, fee) for up_to, price, fee in zip([*bounds, None], tier_prices, tier_fees, strict=True)
    )


@st.composite
def periods(draw: st.DrawFn) -> Period:
    start = draw(moments)
    return Period(start, start + draw(lengths))


def within(period: Period) -> st.SearchStrategy[datetime]:
    naive_start, naive_end = period.start.replace(tzinfo=None), period.end.replace(tzinfo=None)
    return st.datetimes(min_value=naive_start, max_value=naive_end, timezones=st.just(UTC))


@given(tiers(), quantities, quantities, quantities)
def test_graduated_cost_never_falls_as_usage_grows(
    tiers: tuple[Tier, ...], a: Decimal, b: Decimal, included: Decimal
) -> None:
    charge = Charge("m", "graduated", tiers=tiers, included_units=included)
    low, high = sorted([a, b])
    assert rate(charge, low).amount_minor <= rate(charge, high).amount_minor


@given(st.lists(prices, min_size=6, max_size=6).map(lambda ps: sorted(ps, reverse=True)), st.data(), quantities)
def test_volume_never_costs_more_than_graduated_when_prices_fall_by_tier(
    falling: list[Decimal], data: st.DataObject, quantity: Decimal
) -> None:
    shape = data.draw(tiers())
    same_tiers = tuple(Tier(tier.up_to, price) for tier, price in zip(shape, falling, strict=False))
    volume = rate(Charge("m", "volume", tiers=same_tiers), quantity).amount_minor
    graduated = rate(Charge("m", "graduated", tiers=same_tiers), quantity).amount_minor
    assert volume <= graduated
    if same_tiers[0].up_to is None or quantity <= same_tiers[0].up_to:
        assert volume == graduated


@given(tiers(), quantities)
def test_volume_prices_all_units_at_one_tier(tiers: tuple[Tier, ...], quantity: Decimal) -> None:
    rated = rate(Charge("m", "volume", tiers=tiers), quantity)
    candidates = {round_minor(quantity * tier.unit_price + tier.flat_fee_minor) for tier in tiers} | {0}
    assert rated.amount_minor in candidates


@given(prices, quantities, quantities)
def test_per_unit_rounds_once_to_the_nearest_minor_unit(price: Decimal, quantity: Decimal, included: Decimal) -> None:
    rated = rate(Charge("m", "per_unit", unit_price=price, included_units=included), quantity)
    assert rated.billable == max(Decimal(0), quantity - included)
    assert abs(rated.amount_minor - rated.billable * price) <= Decimal("0.5")


@given(st.integers(min_value=1, max_value=10_000), fees, quantities, quantities)
def test_package_cost_never_falls_as_usage_grows(size: int, price: int, a: Decimal, b: Decimal) -> None:
    charge = Charge("m", "package", package_size=size, package_price_minor=price)
    low, high = sorted([a, b])
    assert rate(charge, low).amount_minor <= rate(charge, high).amount_minor
    assert price == 0 or rate(charge, high).amount_minor < (high / size + 1) * price  # at most one block started


@given(tiers(), st.dictionaries(st.none() | st.text(max_size=5), quantities, max_size=6), quantities)
def test_groups_total_is_the_sum_of_each_group_rated_alone(
    tiers: tuple[Tier, ...], quantities: dict[str | None, Decimal], included: Decimal
) -> None:
    charge = Charge("m", "graduated", tiers=tiers, included_units=included)
    rated = rate_groups(charge, quantities)
    assert rated.keys() == quantities.keys()
    assert sum(r.amount_minor for r in rated.values()) == sum(rate(charge, q).amount_minor for q in quantities.values())


@given(amounts, periods())
def test_a_full_period_prorates_to_the_full_price(amount: int, period: Period) -> None:
    assert prorated_minor(amount, period, period.start, period.end) == amount


@given(amounts, periods(), st.data())
def test_two_consecutive_spans_add_up_to_the_full_price_within_one_minor_unit(
    amount: int, period: Period, data: st.DataObject
) -> None:
    middle = data.draw(within(period))
    parts = prorated_minor(amount, period, period.start, middle) + prorated_minor(amount, period, middle, period.end)
    assert abs(parts - amount) <= 1


@given(st.integers(min_value=0, max_value=10**9), periods(), st.data())
def test_a_share_lies_between_nothing_and_the_full_price(amount: int, period: Period, data: st.DataObject) -> None:
    a, b = sorted([data.draw(within(period)), data.draw(within(period))])
    assert 0 <= prorated_minor(amount, period, a, b) <= amount


@given(st.integers(min_value=0, max_value=10**9), st.integers(min_value=0, max_value=10**9), periods(), st.data())
def test_plan_change_lines_net_to_the_price_difference_of_the_rest(
    old: int, new: int, period: Period, data: st.DataObject
) -> None:
    at = data.draw(within(period))
    if at == period.end:  # the change must fall inside [start, end)
        at = period.start
    credit, charge = plan_change_lines(old, new, period, at)
    assert credit.amount_minor == -prorated_minor(old, period, at, period.end)
    assert charge.amount_minor == prorated_minor(new, period, at, period.end)


@given(moments, intervals, lengths)
def test_period_at_contains_the_moment(anchor: datetime, interval: Interval, offset: timedelta) -> None:
    moment = anchor + offset * 10
    period = period_at(anchor, interval, moment)
    assert period.start <= moment < period.end
    assert period.start >= anchor


@given(moments, intervals, st.integers(min_value=0, max_value=500))
def test_periods_follow_each_other_and_keep_the_anchor_time(anchor: datetime, interval: Interval, index: int) -> None:
    start, end = period_start(anchor, interval, index), period_start(anchor, interval, index + 1)
    assert start < end
    assert start.time() == anchor.time()
    assert start.day == min(anchor.day, calendar.monthrange(start.year, start.month)[1])
    assert period_at(anchor, interval, start) == Period(start, end)


@given(moments, intervals, lengths, lengths)
def test_periods_between_cover_the_span_without_gaps(
    anchor: datetime, interval: Interval, offset: timedelta, length: timedelta
) -> None:
    start = anchor + offset
    end = start + length * 5
    found = periods_between(anchor, interval, start, end)
    assert found[0].start <= start < found[0].end
    assert found[-1].start < end <= found[-1].end
    assert all(a.end == b.start for a, b in pairwise(found))
