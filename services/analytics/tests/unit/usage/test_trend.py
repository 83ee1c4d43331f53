from datetime import date

import pytest
from analytics.usage.periods import next_start, period_start, period_starts
from analytics.usage.trend import slope, trend


def test_slope_is_least_squares_against_the_period_index() -> None:
    # x = 0,1,2,3 (mean 1.5), y = 2,4,5,9 (mean 5): sum (x-1.5)(y-5) = 4.5+0.5+0+6 = 11; sum (x-1.5)^2 = 5
    assert slope([2, 4, 5, 9]) == pytest.approx(11 / 5)
    assert slope([7, 7, 7]) == 0
    assert slope([3]) is None


def test_trend_compares_halves_and_leaves_the_middle_of_an_odd_series_out() -> None:
    shape = trend([2, 4, 100, 5, 9])  # halves: 2+4 = 6 and 5+9 = 14; 100 is the middle
    assert (shape.first_half, shape.second_half) == (6, 14)
    assert shape.change_pct == pytest.approx(round((14 - 6) / 6 * 100, 2))  # 133.33
    # slope: x mean 2, y mean 24: (-2)(-22)+(-1)(-20)+0+(1)(-19)+(2)(-15) = 44+20-19-30 = 15; sum dx^2 = 10
    assert shape.slope == pytest.approx(1.5)


def test_no_change_claimed_from_an_empty_first_half() -> None:
    shape = trend([0, 0, 3, 4])
    assert shape.change_pct is None
    assert (shape.first_half, shape.second_half) == (0, 7)
    assert trend([]).slope is None


def test_periods_are_iso_weeks_and_calendar_months() -> None:
    assert period_start(date(2026, 11, 21), "week") == date(2026, 11, 16)  # a Saturday -> its Monday
    assert period_start(date(2026, 11, 21), "month") == date(2026, 11, 1)
    assert next_start(date(2026, 12, 1), "month") == date(2027, 1, 1)
    assert period_starts(date(2026, 11, 20), date(2027, 1, 2), "month") == [
        date(2026, 11, 1),
        date(2026, 12, 1),
        date(2027, 1, 1),
    ]
    assert period_starts(date(2026, 11, 20), date(2026, 11, 24), "week") == [date(2026, 11, 16), date(2026, 11, 23)]
    assert period_starts(date(2026, 11, 20), date(2026, 11, 22), "day") == [date(2026, 11, 20), date(2026, 11, 21)]
