"""Entitlements: each plan limit against the usage of the open period, and the 80% / 100% marks announced once
per period as `tally.usage.threshold_reached`. The caller owns the transaction."""

from collections.abc import Collection, Sequence
from datetime import datetime
from decimal import Decimal

from contracts.entitlements import ThresholdReached, ThresholdReachedEvent
from sqlalchemy import or_, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from billing.customers.models import Customer
from billing.customers.service import get_customer
from billing.entitlements.models import ThresholdNotice
from billing.entitlements.schemas import EntitlementsOut, Limit
from billing.outgoing import publish
from billing.rating.money import exact
from billing.subscriptions.models import Subscription
from billing.usage.measuring import measure_each
from billing.usage.window import UsageWindow

MARKS = (80, 100)
ENTITLED = ("trialing", "active", "past_due")  # an unpaid subscription's entitlements stop
ZERO = Decimal(0)


def limits_of(subscription: Subscription) -> dict[str, int]:
    return {
        name: value
        for name, value in subscription.plan.entitlements.items()
        if isinstance(value, int) and not isinstance(value, bool)
    }


def _window(customer: Customer, subscription: Subscription) -> UsageWindow:
    return UsageWindow(customer.usage_key, subscription.current_period_start, subscription.current_period_end)


async def entitlements_of(session: AsyncSession, customer_ref: str) -> EntitlementsOut:
    customer = await get_customer(session, customer_ref)
    live = await _live_subscriptions(session, [customer.id])
    windows = {s.id: _window(customer, s) for s in live}
    meters = sorted({meter for s in live for meter in limits_of(s)})
    measured = await measure_each(session, meters, list(windows.values()))
    limits: dict[str, int] = {}
    used: dict[str, Decimal] = {}
    features: dict[str, bool] = {}
    for subscription in live:
        usage = measured[windows[subscription.id]]
        for meter, limit in limits_of(subscription).items():
            limits[meter] = limits.get(meter, 0) + limit
            used[meter] = used.get(meter, ZERO) + sum(usage.get(meter, {}).values(), ZERO)
        for name, value in subscription.plan.entitlements.items():
            if isinstance(value, bool):
                features[name] = features.get(name, False) or value
    first = live[0] if live else None
    return EntitlementsOut(
        customer_id=customer.id,
        period_start=first.current_period_start if first else None,
        period_end=first.current_period_end if first else None,
        limits=[_limit(meter, limits[meter], used[meter]) for meter in sorted(limits)],
        features=features,
    )


def _limit(meter: str, limit: int, used: Decimal) -> Limit:
    with exact():
        percent = (used * 100 / limit).quantize(Decimal("0.01")) if limit else ZERO
        return Limit(meter=meter, limit=limit, used=used, remaining=max(ZERO, limit - used), percent_used=percent)


async def announce_thresholds(session: AsyncSession, usage_keys: Collection[str], now: datetime) -> int:
    """For the customers just sent usage: every limit mark reached in the open period and not yet announced is
    announced now (the notice's key makes it once, even with two consumers racing). Returns how many."""
    customers = (
        (
            await session.execute(
                select(Customer).where(or_(Customer.external_id.in_(usage_keys), Customer.id.in_(usage_keys)))
            )
        )
        .scalars()
        .all()
    )
    by_id = {customer.id: customer for customer in customers}
    limited = [s for s in await _live_subscriptions(session, list(by_id)) if limits_of(s)]
    if not limited:
        return 0
    windows = {s.id: _window(by_id[s.customer_id], s) for s in limited}
    measured = await measure_each(session, sorted({m for s in limited for m in limits_of(s)}), list(windows.values()))
    reached: list[tuple[Subscription, str, int, Decimal, int]] = []
    for subscription in limited:
        usage = measured[windows[subscription.id]]
        for meter, limit in limits_of(subscription).items():
            used = sum(usage.get(meter, {}).values(), ZERO)
            reached += [(subscription, meter, limit, used, p) for p in MARKS if limit and used * 100 >= limit * p]
    first = await _first_notices(session, [(s, meter, percent) for s, meter, _, _, percent in reached])
    for subscription, meter, limit, used, percent in reached:
        if (subscription.id, meter, percent) in first:
            mark = _mark(subscription, meter, limit, used, percent, now)
            await publish(session, ThresholdReachedEvent, mark, key=mark.customer_id, time=mark.reached_at)
    return len(first)


def _mark(  # noqa: PLR0917 (the fields of the event, in its order)
    subscription: Subscription, meter: str, limit: int, used: Decimal, percent: int, now: datetime
) -> ThresholdReached:
    return ThresholdReached(
        customer_id=subscription.customer_id,
        subscription_id=subscription.id,
        meter=meter,
        limit=limit,
        used=format(used, "f"),
        percent=percent,
        period_start=subscription.current_period_start,
        period_end=subscription.current_period_end,
        reached_at=now,
    )


async def _live_subscriptions(session: AsyncSession, customer_ids: Sequence[str]) -> Sequence[Subscription]:
    query = (
        select(Subscription)
        .where(
            Subscription.customer_id.in_(customer_ids),
            Subscription.ended_at.is_(None),
            Subscription.status.in_(ENTITLED),
        )
        .order_by(Subscription.created_at, Subscription.id)
    )
    return (await session.execute(query)).unique().scalars().all()


async def _first_notices(
    session: AsyncSession, marks: Sequence[tuple[Subscription, str, int]]
) -> set[tuple[str, str, int]]:
    """Records a notice per (subscription, meter, percent) in the open period, in one statement; returns the
    (subscription id, meter, percent) of those not recorded before."""
    if not marks:
        return set()
    rows = [
        {
            "subscription_id": subscription.id,
            "meter": meter,
            "period_start": subscription.current_period_start,
            "percent": percent,
        }
        for subscription, meter, percent in marks
    ]
    statement = (
        insert(ThresholdNotice)
        .values(rows)
        .on_conflict_do_nothing()
        .returning(ThresholdNotice.subscription_id, ThresholdNotice.meter, ThresholdNotice.percent)
    )
    return {(row[0], row[1], row[2]) for row in (await session.execute(statement)).all()}
