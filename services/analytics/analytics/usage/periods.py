"""Calendar periods (UTC): a day, an ISO week starting on Monday, or a calendar month, named by its first day."""

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal

Period = Literal["day", "week", "month"]


def period_start(day: date, period: Period) -> date:
    if period == "day":
        return day
    if period == "week":
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def next_start(start: date, period: Period) -> date:
    if period == "day":
        return start + timedelta(days=1)
    if period == "week":
        return start + timedelta(days=7)
    return date(start.year + start.month // 12, start.month % 12 + 1, 1)


def period_starts(first: date, end: date, period: Period) -> list[date]:
    """The periods that hold a day of [first, end), in order."""
    starts: list[date] = []
    start = period_start(first, period)
    while start < end:
        starts.append(start)
        start = next_start(start, period)
    return starts


def midnight(day: date) -> datetime:
    """The UTC instant a day starts."""
    return datetime.combine(day, time(), UTC)
