from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone

import pytest
from billing.rating.periods import Period, period_at, period_start, periods_between


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def test_month_ends_clamp_and_the_day_comes_back() -> None:
    anchor = utc(2027, 1, 31, 9, 30)
    starts = [period_start(anchor, "month", index) for index in range(5)]
    assert starts == [
        utc(2027, 1, 31, 9, 30),
        utc(2027, 2, 28, 9, 30),
        utc(2027, 3, 31, 9, 30),
        utc(2027, 4, 30, 9, 30),
        utc(2027, 5, 31, 9, 30),
    ]


def test_february_in_a_leap_year() -> None:
    assert period_start(utc(2028, 1, 31), "month", 1) == utc(2028, 2, 29)


def test_months_cross_the_year() -> None:
    assert period_start(utc(2026, 11, 30), "month", 3) == utc(2027, 2, 28)
    assert period_start(utc(2026, 12, 15), "month", 25) == utc(2029, 1, 15)


def test_yearly_from_february_29() -> None:
    anchor = utc(2028, 2, 29, 12)
    starts = [period_start(anchor, "year", index) for index in range(5)]
    assert starts == [
        utc(2028, 2, 29, 12),
        utc(2029, 2, 28, 12),
        utc(2030, 2, 28, 12),
        utc(2031, 2, 28, 12),
        utc(2032, 2, 29, 12),
    ]


def test_period_at_a_boundary_belongs_to_the_new_period() -> None:
    anchor = utc(2027, 1, 31)
    assert period_at(anchor, "month", utc(2027, 2, 28)) == Period(utc(2027, 2, 28), utc(2027, 3, 31))
    before = utc(2027, 2, 28) - timedelta(microseconds=1)
    assert period_at(anchor, "month", before) == Period(anchor, utc(2027, 2, 28))


def test_period_at_the_anchor_is_the_first() -> None:
    assert period_at(utc(2026, 3, 10), "year", utc(2026, 3, 10)) == Period(utc(2026, 3, 10), utc(2027, 3, 10))


def test_period_at_mid_month_before_the_anchor_day() -> None:
    assert period_at(utc(2026, 1, 20), "month", utc(2026, 6, 5)) == Period(utc(2026, 5, 20), utc(2026, 6, 20))
    assert period_at(utc(2026, 1, 20), "year", utc(2030, 1, 19)) == Period(utc(2029, 1, 20), utc(2030, 1, 20))


def test_period_at_far_from_the_anchor() -> None:
    assert period_at(utc(2026, 1, 31), "month", utc(2526, 2, 28, 1)) == Period(utc(2526, 2, 28), utc(2526, 3, 31))


def test_period_at_reads_other_time_zones_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    moment = datetime(2026, 3, 1, 1, tzinfo=plus_two)  # still February in UTC
    assert period_at(utc(2026, 1, 1), "month", moment) == Period(utc(2026, 2, 1), utc(2026, 3, 1))


def test_period_at_before_the_anchor_is_refused() -> None:
    with pytest.raises(ValueError, match="before the anchor"):
        period_at(utc(2026, 1, 1), "month", utc(2025, 12, 31))


def test_periods_between() -> None:
    anchor = utc(2026, 1, 15)
    assert periods_between(anchor, "month", utc(2026, 2, 1), utc(2026, 4, 15)) == [
        Period(utc(2026, 1, 15), utc(2026, 2, 15)),
        Period(utc(2026, 2, 15), utc(2026, 3, 15)),
        Period(utc(2026, 3, 15), utc(2026, 4, 15)),
    ]


def test_periods_between_one_period() -> None:
    anchor = utc(2026, 1, 15)
    assert periods_between(anchor, "month", utc(2026, 2, 15), utc(2026, 2, 16)) == [
        Period(utc(2026, 2, 15), utc(2026, 3, 15))
    ]


def test_periods_between_starts_at_the_anchor() -> None:
    anchor = utc(2026, 1, 15)
    assert periods_between(anchor, "year", utc(2020, 1, 1), utc(2027, 1, 16)) == [
        Period(utc(2026, 1, 15), utc(2027, 1, 15)),
        Period(utc(2027, 1, 15), utc(2028, 1, 15)),
    ]
    assert periods_between(anchor, "year", utc(2020, 1, 1), anchor) == []


def test_periods_between_needs_a_span() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        periods_between(utc(2026, 1, 1), "month", utc(2026, 2, 1), utc(2026, 2, 1))


@pytest.mark.parametrize(
    "call",
    [
        lambda naive, aware: period_start(naive, "month", 1),
        lambda naive, aware: period_at(naive, "month", aware),
        lambda naive, aware: period_at(aware, "month", naive),
        lambda naive, aware: periods_between(aware, "month", naive, aware + timedelta(days=1)),
        lambda naive, aware: periods_between(aware, "month", aware, naive + timedelta(days=1)),
        lambda naive, aware: Period(naive, aware + timedelta(days=1)),
    ],
)
def test_naive_datetimes_are_refused(call: Callable[[datetime, datetime], object]) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        call(datetime(2026, 1, 1), utc(2026, 1, 1))


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="numbered from 0"):
        period_start(utc(2026, 1, 1), "month", -1)
    with pytest.raises(ValueError, match="month or year"):
        period_start(utc(2026, 1, 1), "week", 1)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="end after it starts"):
        Period(utc(2026, 1, 2), utc(2026, 1, 1))
