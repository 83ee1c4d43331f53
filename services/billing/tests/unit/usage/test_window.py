from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from billing.usage.window import split_window


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
