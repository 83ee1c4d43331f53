"""Pure: a customer's subscription change log -> MRR segments -> the months in which its closing MRR moved.

A segment is a half-open interval [valid_from, valid_to) of one subscription's state, with the MRR it counts for
under the policy. MRR "on" an instant t is the sum of the segments with valid_from < t <= valid_to (valid_to None:
open): the state in effect just before t. A day's MRR is that at the next midnight (the end of the day), so a
subscription ending at 00:00 on 1 March still counts on 28 February and churns on 1 March.
"""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from itertools import groupby

COUNTED_STATUSES = frozenset({"active", "past_due"})


@dataclass(frozen=True)
class Policy:
    past_due_active_days: int
    churn_at_cancellation: bool


@dataclass(frozen=True)
class Change:
    """One subscription event, as the change log keeps it."""

    event_id: str
    subscription_id: str
    customer_id: str
    currency: str
    status: str
    plan_key: str
    interval: str
    mrr_minor: int
    cancel_at_period_end: bool
    effective_at: datetime
    event_time: datetime


@dataclass(frozen=True)
class Segment:
    customer_id: str
    subscription_id: str
    currency: str
    plan_key: str
    interval: str
    status: str
    valid_from: datetime
    valid_to: datetime | None
    mrr_minor: int


@dataclass(frozen=True)
class MonthMove:
    """The month in which a customer's closing MRR changed, and how (the bridge's movement)."""

    customer_id: str
    currency: str
    month: date
    opening_mrr_minor: int
    closing_mrr_minor: int
    movement: str


def _order(change: Change) -> tuple[datetime, datetime, str]:
    return change.effective_at, change.event_time, change.event_id


def segments_of(changes: Iterable[Change], policy: Policy) -> list[Segment]:
    """Every subscription's states, in the order they took effect (not the order the events arrived)."""
    ordered = sorted(changes, key=lambda c: (c.subscription_id, *_order(c)))
    segments: list[Segment] = []
    for _, group in groupby(ordered, key=lambda c: c.subscription_id):
        segments += _subscription_segments(list(group), policy)
    return segments


def _subscription_segments(changes: Sequence[Change], policy: Policy) -> list[Segment]:
    segments: list[Segment] = []
    past_due_since: datetime | None = None
    for index, change in enumerate(changes):
        end = changes[index + 1].effective_at if index + 1 < len(changes) else None
        past_due_since = (past_due_since or change.effective_at) if change.status == "past_due" else None
        if end is not None and end <= change.effective_at:
            continue  # superseded at the same instant
        counted = _counted_mrr(change, policy)
        if past_due_since is not None and counted:
            cutoff = max(past_due_since + timedelta(days=policy.past_due_active_days), change.effective_at)
            if end is None or cutoff < end:
                if cutoff > change.effective_at:
                    segments.append(_segment(change, change.effective_at, cutoff, counted))
                segments.append(_segment(change, cutoff, end, 0))
                continue
        segments.append(_segment(change, change.effective_at, end, counted))
    return segments


def _counted_mrr(change: Change, policy: Policy) -> int:
    if change.status not in COUNTED_STATUSES:
        return 0
    if policy.churn_at_cancellation and change.cancel_at_period_end:
        return 0
    return change.mrr_minor


def _segment(change: Change, start: datetime, end: datetime | None, mrr: int) -> Segment:
    return Segment(
        change.customer_id,
        change.subscription_id,
        change.currency,
        change.plan_key,
        change.interval,
        change.status,
        start,
        end,
        mrr,
    )


def mrr_at(segments: Iterable[Segment], instant: datetime) -> int:
    return sum(
        s.mrr_minor for s in segments if s.valid_from < instant and (s.valid_to is None or s.valid_to >= instant)
    )


def month_of(moment: datetime) -> date:
    return date(moment.year, moment.month, 1)


def next_month(month: date) -> date:
    return date(month.year + month.month // 12, month.month % 12 + 1, 1)


def month_start(month: date) -> datetime:
    return datetime(month.year, month.month, 1, tzinfo=UTC)


def classify(opening: int, closing: int, *, paid_before: bool) -> str:
    if opening == 0:
        return "reactivation" if paid_before else "new"
    if closing == 0:
        return "churn"
    return "expansion" if closing > opening else "contraction"


def month_moves(customer_id: str, currency: str, segments: Sequence[Segment]) -> list[MonthMove]:
    """One row per month whose closing MRR (that at the end of its last day) differs from the month before's.
    Only a month holding a segment boundary can differ, so only those are evaluated."""
    if not segments:
        return []
    boundaries = {month_of(s.valid_from) for s in segments} | {month_of(s.valid_to) for s in segments if s.valid_to}
    moves: list[MonthMove] = []
    opening, paid_before = 0, False
    for month in sorted(boundaries):
        closing = mrr_at(segments, month_start(next_month(month)))
        if closing != opening:
            movement = classify(opening, closing, paid_before=paid_before)
            moves.append(MonthMove(customer_id, currency, month, opening, closing, movement))
            paid_before = paid_before or closing > 0
            opening = closing
    return moves
