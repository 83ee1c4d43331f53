"""Pure: a Stripe subscription's and invoice's past as the steps a live Tally would have taken and announced, each at
the moment it happened, and the period a subscription is in now (from which Tally bills it on)."""

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

from billing.imports.stripe_objects import Invoice, Subscription
from billing.rating.periods import Interval, Period, period_at

# A cancellation requested this long before the subscription ended was scheduled (at period end), not immediate.
SCHEDULED_AFTER = timedelta(minutes=1)
# A Stripe invoice's path to its status: each action takes Tally's invoice to the status named here.
REACHES = {"finalize": "finalized", "mark_uncollectible": "uncollectible", "pay": "paid", "void": "void"}


@dataclass(frozen=True)
class Now:
    """Where the subscription stands at the end of its history: the anchor Tally counts its periods from and the
    period open now (or the last one, once canceled)."""

    anchor: datetime
    period: Period


@dataclass(frozen=True)
class State:
    """The subscription after one step of its history; `change` names the step as the events do."""

    change: str  # created, status_changed, cancel_scheduled, canceled
    at: datetime
    status: str
    period_start: datetime
    period_end: datetime
    cancel_at_period_end: bool = False
    canceled_at: datetime | None = None
    ended_at: datetime | None = None


def standing(sub: Subscription, interval: Interval, now: datetime) -> Now:
    """Stripe's current period; for a live subscription whose period Stripe shows as over (stale data, a fake
    Stripe), the period containing `now` on the same anchor: the periods in between are billed by neither, so the
    worker never invoices the past."""
    if sub.status == "trialing" and sub.trial_end is not None:
        start = min(sub.trial_start or sub.start, sub.trial_end)
        return Now(sub.trial_end, Period(start, sub.trial_end) if start < sub.trial_end else _first(sub, interval))
    anchor = sub.period_start
    if sub.billing_cycle_anchor is not None and sub.billing_cycle_anchor <= sub.period_start:
        anchor = sub.billing_cycle_anchor
    live = sub.status != "canceled"
    if sub.period_end <= sub.period_start or (live and sub.period_end <= now):
        return Now(anchor, period_at(anchor, interval, max(now, anchor) if live else sub.period_start))
    return Now(anchor, Period(sub.period_start, sub.period_end))


def subscription_history(
    sub: Subscription, interval: Interval, now: datetime, overdue_since: datetime | None
) -> list[State]:
    """Created at its start (trialing or active), the trial's end, falling overdue (at `overdue_since`: the first
    unpaid invoice), a cancellation scheduled, the end: each at its moment, never before the step before it."""
    trial = sub.trial_end is not None and sub.trial_end > sub.start
    first = _first(sub, interval)
    states = [State("created", sub.start, "trialing" if trial else "active", first.start, first.end)]
    current = standing(sub, interval, now).period

    def then(change: str, at: datetime, **changes: Any) -> None:
        step: dict[str, Any] = {"change": change, "at": max(at, states[-1].at), "period_start": current.start}
        step |= changes
        states.append(replace(states[-1], period_end=current.end, **step))

    ended = (sub.ended_at or sub.canceled_at or now) if sub.status == "canceled" else None
    if trial and sub.trial_end is not None and sub.status != "trialing" and sub.trial_end <= (ended or now):
        then("status_changed", sub.trial_end, status="active")
    if sub.status in ("past_due", "unpaid"):
        then("status_changed", overdue_since or now, status=sub.status)
    canceled_at = sub.canceled_at or ended
    if canceled_at is not None and (sub.cancel_at_period_end or (ended and ended - canceled_at > SCHEDULED_AFTER)):
        then("cancel_scheduled", canceled_at, cancel_at_period_end=True, canceled_at=canceled_at)
    if ended is not None:
        then("canceled", ended, status="canceled", ended_at=ended, canceled_at=canceled_at)
    return states


def overdue_since(invoices: Sequence[Invoice], subscription_id: str) -> datetime | None:
    """When the subscription's oldest invoice still unpaid was finalized: when it fell overdue."""
    unpaid = [
        invoice.finalized_at or invoice.created
        for invoice in invoices
        if invoice.subscription == subscription_id and invoice.status in ("open", "uncollectible")
    ]
    return min(unpaid, default=None)


def invoice_steps(invoice: Invoice) -> list[tuple[str, datetime]]:
    """The invoice's actions (see REACHES) at their moments, in order; a draft has none."""
    if invoice.status == "draft":
        return []
    finalized = invoice.finalized_at or invoice.created
    steps = [("finalize", finalized)]
    if invoice.status == "uncollectible" or (invoice.uncollectible_at and invoice.status in ("paid", "void")):
        steps.append(("mark_uncollectible", invoice.uncollectible_at or finalized))
    if invoice.status == "paid":
        steps.append(("pay", invoice.paid_at or finalized))
    elif invoice.status == "void":
        steps.append(("void", invoice.voided_at or finalized))
    ordered: list[tuple[str, datetime]] = []
    for action, at in steps:
        ordered.append((action, max(at, ordered[-1][1]) if ordered else at))
    return ordered


def steps_after(steps: Sequence[tuple[str, datetime]], tally_status: str) -> list[tuple[str, datetime]] | None:
    """What is left to do for an invoice imported before and now at `tally_status` in Tally: the steps after the one
    that reached it; None when Tally's invoice went another way (changed in Tally since), so it is left alone."""
    for index, (action, _) in enumerate(steps):
        if REACHES[action] == tally_status:
            return list(steps[index + 1 :])
    return None


def _first(sub: Subscription, interval: Interval) -> Period:
    if sub.trial_end is not None and sub.trial_end > sub.start:
        return Period(sub.start, sub.trial_end)
    return period_at(sub.start, interval, sub.start)
