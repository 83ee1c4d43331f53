"""Subscription changes announced on billing.events.v1 through the outbox, with what revenue analytics needs."""

from datetime import datetime

from contracts.subscriptions import (
    Change,
    SubscriptionCanceledEvent,
    SubscriptionCreatedEvent,
    SubscriptionUpdatedEvent,
    Terms,
)
from contracts.subscriptions import Subscription as SubscriptionData
from sqlalchemy.ext.asyncio import AsyncSession

from billing.outgoing import publish
from billing.plans.models import PlanVersion
from billing.rating.money import round_share
from billing.rating.periods import MONTHS_PER_INTERVAL
from billing.subscriptions.models import Subscription

_EVENT_CLASSES = {"created": SubscriptionCreatedEvent, "canceled": SubscriptionCanceledEvent}


def mrr_minor(plan: PlanVersion, status: str) -> int:
    """The base price normalized to a month, rounded half-up; nothing while trialing or once canceled."""
    if status in ("trialing", "canceled"):
        return 0
    return round_share(plan.base_price_minor, 1, MONTHS_PER_INTERVAL[plan.interval])


def terms_of(plan: PlanVersion, status: str) -> Terms:
    return Terms(
        plan_key=plan.key,
        plan_version=plan.version,
        status=status,
        interval=plan.interval,
        base_price_minor=plan.base_price_minor,
        mrr_minor=mrr_minor(plan, status),
    )


async def announce(
    session: AsyncSession,
    subscription: Subscription,
    change: Change,
    effective_at: datetime,
    previous: Terms | None = None,
) -> None:
    data = SubscriptionData(
        subscription_id=subscription.id,
        customer_id=subscription.customer_id,
        currency=subscription.plan.currency,
        terms=terms_of(subscription.plan, subscription.status),
        previous=previous,
        change=change,
        started_at=subscription.started_at,
        trial_end=subscription.trial_end,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        canceled_at=subscription.canceled_at,
        effective_at=effective_at,
    )
    event_cls = _EVENT_CLASSES.get(change, SubscriptionUpdatedEvent)
    await publish(session, event_cls, data, key=subscription.customer_id, time=effective_at)
