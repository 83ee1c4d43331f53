"""Pure: months and the instants that close days and months (UTC)."""

import calendar
from datetime import UTC, date, datetime, timedelta


def parse_month(text: str) -> date:
    year, month = text.split("-")
    return date(int(year), int(month), 1)


def month_text(month: date) -> str:
    return f"{month.year:04d}-{month.month:02d}"


def add_months(day: date, months: int) -> date:
    """The same day `months` later (or earlier), clamped to the month's last day (31 March - 1 month = 28 or 29
    February); a month's last day stays a last day (30 June - 1 month = 31 May), so periods ending on a month's
    last day are calendar months."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    month_end = day.day == calendar.monthrange(day.year, day.month)[1]
    return date(year, month + 1, last if month_end else min(day.day, last))


def months_between(first: date, last: date) -> list[date]:
    """Every month from `first` to `last`, both included."""
    count = (last.year - first.year) * 12 + last.month - first.month + 1
    return [add_months(first, n) for n in range(max(count, 0))]


def end_of_day(day: date) -> datetime:
    """The instant a day's figures are read at: the following midnight, UTC."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(days=1)


def end_of_month(month: date) -> datetime:
    return end_of_day(add_months(month, 1) - timedelta(days=1))
