from datetime import UTC, datetime, timedelta

import pytest
from billing.rating.periods import Period
from billing.rating.proration import ProrationLine, plan_change_lines, prorated_minor

MARCH = Period(datetime(2026, 3, 1, tzinfo=UTC), datetime(2026, 4, 1, tzinfo=UTC))  # 31 days
APRIL = Period(datetime(2026, 4, 1, tzinfo=UTC), datetime(2026, 5, 1, tzinfo=UTC))  # 30 days


def day(month: int, day: int) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC)


@pytest.mark.parametrize("full", [0, 1, 999, 3000, 123_456_789])
def test_a_full_period_costs_the_full_price(full: int) -> None:
    assert prorated_minor(full, MARCH, MARCH.start, MARCH.end) == full
    assert prorated_minor(full, APRIL, day(3, 15), day(5, 15)) == full  # clipped to the period


def test_half_of_a_thirty_day_period() -> None:
    assert prorated_minor(3000, APRIL, day(4, 1), day(4, 16)) == 1500
    assert prorated_minor(3000, APRIL, day(4, 16), day(5, 1)) == 1500


def test_the_share_rounds_half_up_once() -> None:
    assert prorated_minor(999, APRIL, day(4, 1), day(4, 16)) == 500  # 499.5
    assert prorated_minor(1000, APRIL, day(4, 1), day(4, 11)) == 333  # 333.33
    assert prorated_minor(1000, APRIL, day(4, 1), day(4, 21)) == 667  # 666.67


def test_by_the_second() -> None:
    seconds_in_april = 30 * 24 * 3600
    one_second = timedelta(seconds=1)
    assert prorated_minor(seconds_in_april, APRIL, APRIL.start, APRIL.start + one_second) == 1
    assert prorated_minor(seconds_in_april, APRIL, APRIL.end - 7 * one_second, APRIL.end) == 7


def test_time_outside_the_period_costs_nothing() -> None:
    assert prorated_minor(3000, APRIL, day(3, 1), day(4, 1)) == 0
    assert prorated_minor(3000, APRIL, day(4, 10), day(4, 10)) == 0
    assert prorated_minor(3000, APRIL, day(4, 20), day(4, 10)) == 0


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        prorated_minor(3000, APRIL, datetime(2026, 4, 1), day(4, 10))


def test_upgrade_lines() -> None:
    lines = plan_change_lines(3100, 6200, MARCH, day(3, 10))  # 22 of 31 days remain
    assert lines == [
        ProrationLine("Unused time on the old plan (2026-03-10 to 2026-04-01)", -2200),
        ProrationLine("Remaining time on the new plan (2026-03-10 to 2026-04-01)", 4400),
    ]


def test_plan_change_lines_sum_to_the_difference_of_the_shares() -> None:
    at = day(4, 11) + timedelta(hours=5, seconds=17)
    lines = plan_change_lines(1999, 4999, APRIL, at)
    assert sum(line.amount_minor for line in lines) == prorated_minor(4999, APRIL, at, APRIL.end) - prorated_minor(
        1999, APRIL, at, APRIL.end
    )
    assert lines[0].amount_minor < 0 < lines[1].amount_minor


def test_downgrade_lines_credit_more_than_they_charge() -> None:
    lines = plan_change_lines(3000, 1500, APRIL, day(4, 16))
    assert [line.amount_minor for line in lines] == [-1500, 750]


def test_a_change_outside_the_period_is_refused() -> None:
    with pytest.raises(ValueError, match="within the period"):
        plan_change_lines(1000, 2000, APRIL, APRIL.end)
