"""Billing periods in UTC, each counted from the anchor so that month ends clamp without drifting."""

import calendar
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

Interval = Literal["month", "year"]
MONTHS_PER_INTERVAL: dict[str, int] = {"month": 1, "year": 12}


@dataclass(frozen=True)
class Period:
    start: datetime
    end: datetime  # exclusive

    def __post_init__(self) -> None:
        require_aware(self.start, "start")
        require_aware(self.end, "end")
        if self.end <= self.start:
            raise ValueError("a period must end after it starts")


def require_aware(moment: datetime, name: str) -> None:
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{name} must be timezone-aware, got the naive {moment.isoformat()}")


def add_months(moment: datetime, months: int) -> datetime:
    """The same day and time `months` later, clamped to the last day of a shorter month."""
    index = moment.year * 12 + moment.month - 1 + months
    year, month = divmod(index, 12)
    day = min(moment.day, calendar.monthrange(year, month + 1)[1])
    return moment.replace(year=year, month=month + 1, day=day)


def period_start(anchor: datetime, interval: Interval, index: int) -> datetime:
    """The start of period `index`; period 0 starts at the anchor."""
    require_aware(anchor, "anchor")
    if index < 0:
        raise ValueError("periods are numbered from 0, the one starting at the anchor")
    return add_months(anchor.astimezone(UTC), index * _months(interval))


def period_at(anchor: datetime, interval: Interval, moment: datetime) -> Period:
    """The period containing `moment`; a moment exactly at a boundary starts the new period."""
    index = _index_at(anchor, interval, moment)
    return Period(period_start(anchor, interval, index), period_start(anchor, interval, index + 1))


def periods_between(anchor: datetime, interval: Interval, start: datetime, end: datetime) -> list[Period]:
    """Every period overlapping [start, end), in order; none before the anchor."""
    require_aware(anchor, "anchor")
    require_aware(start, "start")
    require_aware(end, "end")
    if end <= start:
        raise ValueError("the span must end after it starts")
    index = _index_at(anchor, interval, max(start, anchor))
    periods: list[Period] = []
    while (begins := period_start(anchor, interval, index)) < end:
        periods.append(Period(begins, period_start(anchor, interval, index + 1)))
        index += 1
    return periods


def _months(interval: Interval) -> int:
    if interval not in MONTHS_PER_INTERVAL:
        raise ValueError(f"the interval must be month or year, not {interval!r}")
    return MONTHS_PER_INTERVAL[interval]


def _index_at(anchor: datetime, interval: Interval, moment: datetime) -> int:
    require_aware(anchor, "anchor")
    require_aware(moment, "moment")
    if moment < anchor:
        raise ValueError("the moment is before the anchor, the start of the first period")
    anchor, moment = anchor.astimezone(UTC), moment.astimezone(UTC)
    months = (moment.year - anchor.year) * 12 + moment.month - anchor.month
    # Period `index` starts in the moment's month or earlier, the next one after it: the answer is index or index - 1.
    index = months // _months(interval)
    while period_start(anchor, interval, index) > moment:
        index -= 1
    return index
