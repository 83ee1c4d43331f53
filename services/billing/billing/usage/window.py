"""Pure: how a time window [start, end) splits into whole UTC days and the partly covered days at its edges."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta


@dataclass(frozen=True)
class WindowSplit:
    days: list[date]  # every UTC day the window touches, in order
    whole_days: list[date]  # those it covers entirely
    partial_spans: list[tuple[datetime, datetime]]  # the covered part of each other day


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def split_window(start: datetime, end: datetime) -> WindowSplit:
    start, end = start.astimezone(UTC), end.astimezone(UTC)
    if end <= start:
        raise ValueError("the window must end after it starts")
    last_day = (end - timedelta(microseconds=1)).date()
    days = [start.date() + timedelta(days=n) for n in range((last_day - start.date()).days + 1)]
    whole: list[date] = []
    partial: list[tuple[datetime, datetime]] = []
    for day in days:
        day_start, day_end = midnight(day), midnight(day + timedelta(days=1))
        if start <= day_start and day_end <= end:
            whole.append(day)
        else:
            partial.append((max(start, day_start), min(end, day_end)))
    return WindowSplit(days, whole, partial)
