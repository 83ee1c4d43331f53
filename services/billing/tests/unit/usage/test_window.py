from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from billing.usage.window import UsageWindow, day_windows, split_window, window_arrays
from hypothesis import given
from hypothesis.strategies import datetimes, just, timedeltas


def at(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC)


def test_whole_days_only() -> None:
    split = split_window(at(1), at(4))
    assert split.days == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert split.whole_days == split.days
    assert split.partial_spans == []


def test_partial_edges() -> None:
    split = split_window(at(1, 12), at(3, 6))
    assert split.days == [date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)]
    assert split.whole_days == [date(2026, 11, 2)]
    assert split.partial_spans == [(at(1, 12), at(2)), (at(3), at(3, 6))]


def test_within_one_day() -> None:
    split = split_window(at(5, 1), at(5, 2))
    assert split.days == [date(2026, 11, 5)]
    assert split.whole_days == []
    assert split.partial_spans == [(at(5, 1), at(5, 2))]


def test_other_time_zones_are_read_in_utc() -> None:
    plus_two = timezone(timedelta(hours=2))
    split = split_window(datetime(2026, 11, 2, 2, tzinfo=plus_two), datetime(2026, 11, 3, 2, tzinfo=plus_two))
    assert split.whole_days == [date(2026, 11, 2)]
    assert split.partial_spans == []


def test_empty_window_is_refused() -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        split_window(at(2), at(2))


def test_window_arrays_give_each_window_its_whole_days_and_edges() -> None:
    windows = [
        UsageWindow("a", at(1, 12), at(3, 6)),
        UsageWindow("b", at(1), at(4)),
        UsageWindow("c", at(5, 1), at(5, 2)),
    ]
    arrays = window_arrays(windows)
    assert (arrays.day_window, arrays.day_customer) == ([0, 1], ["a", "b"])
    assert arrays.first_day == [date(2026, 11, 2), date(2026, 11, 1)]
    assert arrays.last_day == [date(2026, 11, 2), date(2026, 11, 3)]
    assert (arrays.span_window, arrays.span_customer) == ([0, 0, 2], ["a", "a", "c"])
    assert list(zip(arrays.span_start, arrays.span_end, strict=True)) == [
        (at(1, 12), at(2)),
        (at(3), at(3, 6)),
        (at(5, 1), at(5, 2)),
    ]


def test_window_arrays_refuse_naive_and_empty_windows() -> None:
    with pytest.raises(ValueError, match="aware"):
        window_arrays([UsageWindow("a", datetime(2026, 11, 1), at(2))])
    with pytest.raises(ValueError, match="end after it starts"):
        window_arrays([UsageWindow("a", at(2), at(1))])


def test_day_windows_cut_at_utc_midnight() -> None:
    plus_two = timezone(timedelta(hours=2))
    window = UsageWindow("a", datetime(2026, 11, 1, 14, tzinfo=plus_two), at(3, 6))
    assert day_windows(window) == [
        UsageWindow("a", at(1, 12), at(2)),
        UsageWindow("a", at(2), at(3)),
        UsageWindow("a", at(3), at(3, 6)),
    ]
    assert day_windows(UsageWindow("a", at(1), at(2))) == [UsageWindow("a", at(1), at(2))]


@given(
    start=datetimes(min_value=datetime(2026, 1, 1), max_value=datetime(2026, 3, 1), timezones=just(UTC)),
    length=timedeltas(min_value=timedelta(microseconds=1), max_value=timedelta(days=70)),
)
def test_window_arrays_agree_with_split_window(start: datetime, length: timedelta) -> None:
    split = split_window(start, start + length)
    arrays = window_arrays([UsageWindow("c", start, start + length)])
    whole = list(zip(arrays.first_day, arrays.last_day, strict=True))
    assert whole == ([(split.whole_days[0], split.whole_days[-1])] if split.whole_days else [])
    assert list(zip(arrays.span_start, arrays.span_end, strict=True)) == split.partial_spans
