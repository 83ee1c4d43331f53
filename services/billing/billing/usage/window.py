"""Pure: how a time window [start, end) splits into whole UTC days and the partly covered days at its edges."""

from collections.abc import Sequence
from dataclasses import dataclass, field
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


def as_utc(moment: datetime) -> datetime:
    """Times without a zone are read as UTC, as the API documents."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


@dataclass(frozen=True)
class UsageWindow:
    """One customer's usage over [start, end)."""

    customer_id: str  # the usage events' customer_id
    start: datetime  # inclusive, aware
    end: datetime  # exclusive, aware


@dataclass
class WindowArrays:
    """Windows as the measuring SQL reads them, one array per column: each window's whole UTC days (one range per
    window) and the partly covered days at its edges (at most two spans per window), tagged with the window's index."""

    day_window: list[int] = field(default_factory=list)
    day_customer: list[str] = field(default_factory=list)
    first_day: list[date] = field(default_factory=list)
    last_day: list[date] = field(default_factory=list)
    span_window: list[int] = field(default_factory=list)
    span_customer: list[str] = field(default_factory=list)
    span_start: list[datetime] = field(default_factory=list)
    span_end: list[datetime] = field(default_factory=list)


def window_arrays(windows: Sequence[UsageWindow]) -> WindowArrays:
    """Raises ValueError on a window without a time zone or not ending after it starts."""
    arrays = WindowArrays()
    for index, window in enumerate(windows):
        if window.start.tzinfo is None or window.end.tzinfo is None:
            raise ValueError("window times must be aware (carry a time zone)")
        whole_days, partial_spans = _edges(window.start.astimezone(UTC), window.end.astimezone(UTC))
        if whole_days:
            arrays.day_window.append(index)
            arrays.day_customer.append(window.customer_id)
            arrays.first_day.append(whole_days[0])
            arrays.last_day.append(whole_days[1])
        for start, end in partial_spans:
            arrays.span_window.append(index)
            arrays.span_customer.append(window.customer_id)
            arrays.span_start.append(start)
            arrays.span_end.append(end)
    return arrays


def _edges(start: datetime, end: datetime) -> tuple[tuple[date, date] | None, list[tuple[datetime, datetime]]]:
    """What split_window finds, without walking every day (an invoice run splits thousands of month-long windows):
    the first and last whole day, and the partly covered spans at the edges."""
    if end <= start:
        raise ValueError("the window must end after it starts")
    first_midnight = midnight(start.date())
    if first_midnight < start:
        first_midnight += timedelta(days=1)
    last_midnight = midnight(end.date())
    if first_midnight > last_midnight:  # within one day, touching neither midnight
        return None, [(start, end)]
    whole = (
        (first_midnight.date(), last_midnight.date() - timedelta(days=1)) if first_midnight < last_midnight else None
    )
    spans = [(start, first_midnight)] if start < first_midnight else []
    return whole, spans + ([(last_midnight, end)] if last_midnight < end else [])


def day_windows(window: UsageWindow) -> list[UsageWindow]:
    """The window cut at each UTC midnight: one window per UTC day it touches, in order."""
    start, end = window.start.astimezone(UTC), window.end.astimezone(UTC)
    return [
        UsageWindow(window.customer_id, max(start, midnight(day)), min(end, midnight(day + timedelta(days=1))))
        for day in split_window(start, end).days
    ]
