"""Subscription use cases: create (also in the past, also with a trial), change plan, cancel. The caller owns the
transaction; `now` is passed in so every rule can be tested at any moment."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from tally_runtime.ids import new_id
from tally_runtime.pages import split_page

from billing.customers.models import Customer
from billing.customers.service import get_customer
from billing.invoices import closing
from billing.plans import repository as plan_repository
from billing.plans.models import PlanVersion
from billing.rating.periods import Period, period_at
from billing.rating.proration import plan_change_lines
from billing.subscriptions import repository
from billing.subscriptions.events import announce, mrr_minor, terms_of
from billing.subscriptions.models import Subscription
from billing.subscriptions.schemas import CancelIn, ChangePlanIn, SubscriptionIn


class UnknownSubscription(Exception):
    pass


class Refused(Exception):
    """The request is well formed but breaks a billing rule: [{"field", "reason"}], answered with 422."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.errors: list[dict[str, Any]] = [{"field": field, "reason": reason}]


async def _plan(session: AsyncSession, key: str, version: int | None, field: str) -> PlanVersion:
    plan = await (
        plan_repository.latest_version(session, key)
        if version is None
        else plan_repository.version_of(session, key, version)
    )
    if plan is None:
        raise Refused(field, f"no plan {key!r}" + (f" version {version}" if version else ""))
    return plan


def _check_currency(customer: Customer, plan: PlanVersion) -> None:
    if plan.currency != customer.currency:
        raise Refused("body.plan_key", f"the plan is in {plan.currency}, the customer pays in {customer.currency}")


async def create_subscription(session: AsyncSession, data: SubscriptionIn, now: datetime) -> Subscription:
    customer = await get_customer(session, data.customer_id, for_update=True)  # serializes the live check
    plan = await _plan(session, data.plan_key, data.plan_version, "body.plan_key")
    _check_currency(customer, plan)
    start = data.start_date or now.replace(microsecond=0)
    if start > now:
        raise Refused("body.start_date", "must not be in the future")
    live = await repository.live_subscription_ids(session, customer.id)
    if live and not plan.allow_multiple_subscriptions:
        raise Refused("body.customer_id", f"already has a live subscription ({live[0]}) and the plan allows one")
    trial_days = plan.trial_days if data.trial_days is None else data.trial_days
    trial_end = start + timedelta(days=trial_days) if trial_days else None
    anchor = trial_end or start
    first = Period(start, trial_end) if trial_end else period_at(anchor, plan.interval, anchor)  # type: ignore[arg-type]
    subscription = Subscription(
        id=new_id("sub"),
        customer_id=customer.id,
        plan_version_id=plan.id,
        status="trialing" if trial_end else "active",
        started_at=start,
        trial_end=trial_end,
        billing_anchor=anchor,
        current_period_start=first.start,
        current_period_end=first.end,
        cancel_at_period_end=False,
    )
    session.add(subscription)
    await session.flush()
    subscription = await get_subscription(session, subscription.id)
    await announce(session, subscription, "created", effective_at=start)
    if not trial_end:
        await closing.invoice_first_period(session, subscription, customer)
    return subscription


async def get_subscription(session: AsyncSession, subscription_id: str, *, for_update: bool = False) -> Subscription:
    subscription = await repository.subscription_by_id(session, subscription_id, for_update=for_update)
    if subscription is None:
        raise UnknownSubscription(subscription_id)
    return subscription


async def _live(session: AsyncSession, subscription_id: str, now: datetime) -> Subscription:
    subscription = await get_subscription(session, subscription_id, for_update=True)
    if subscription.ended_at is not None:
        raise Refused("path.subscription_id", "the subscription has ended")
    if subscription.current_period_end <= now:
        raise Refused("path.subscription_id", "its last period is still being invoiced; retry in a minute")
    return subscription


async def change_plan(session: AsyncSession, subscription_id: str, data: ChangePlanIn, now: datetime) -> Subscription:
    """A dearer plan (by monthly price) takes effect now, with the rest of the period prorated to the second as
    separate lines on the next invoice; between monthly and yearly, a new period starts now, invoiced at once with a
    credit for the old plan's unused time. A cheaper or equal plan waits for the end of the period."""
    subscription = await _live(session, subscription_id, now)
    old = subscription.plan
    new = await _plan(session, data.plan_key, data.plan_version, "body.plan_key")
    if new.key == old.key and new.version == old.version:
        raise Refused("body.plan_key", "the subscription is on this plan already")
    customer = await get_customer(session, subscription.customer_id)
    _check_currency(customer, new)
    previous = terms_of(old, subscription.status)
    if mrr_minor(new, "active") <= mrr_minor(old, "active") and subscription.status != "trialing":
        subscription.scheduled_plan_version_id = new.id
        change = "plan_change_scheduled"
    else:
        at = max(now.replace(microsecond=0), subscription.current_period_start)
        period = Period(subscription.current_period_start, subscription.current_period_end)
        unused_old, rest_of_new = plan_change_lines(old.base_price_minor, new.base_price_minor, period, at)
        if subscription.status == "trialing":
            subscription.plan_version_id, subscription.scheduled_plan_version_id = new.id, None
        elif new.interval == old.interval:
            closing.add_proration(session, subscription, unused_old, at)
            closing.add_proration(session, subscription, rest_of_new, at)
            subscription.plan_version_id, subscription.scheduled_plan_version_id = new.id, None
        else:  # a new period starts now, on the new interval
            closing.add_proration(session, subscription, unused_old, at)
            await closing.restart(session, subscription, customer, at, new)
        change = "plan_changed"
    subscription.updated_at = now
    await session.flush()
    subscription = await _reloaded(session, subscription)
    await announce(session, subscription, change, effective_at=now, previous=previous)  # type: ignore[arg-type]
    return subscription


async def cancel(session: AsyncSession, subscription_id: str, data: CancelIn, now: datetime) -> Subscription:
    subscription = await _live(session, subscription_id, now)
    previous = terms_of(subscription.plan, subscription.status)
    subscription.canceled_at = now
    subscription.updated_at = now
    if data.at_period_end:
        subscription.cancel_at_period_end = True
        await session.flush()
        await announce(session, await _reloaded(session, subscription), "cancel_scheduled", now, previous)
        return subscription
    customer = await get_customer(session, subscription.customer_id)
    await closing.close_now(session, subscription, customer, now)
    subscription = await _reloaded(session, subscription)
    await announce(session, subscription, "canceled", effective_at=now, previous=previous)
    return subscription


async def _reloaded(session: AsyncSession, subscription: Subscription) -> Subscription:
    await session.refresh(subscription)
    return subscription


async def list_subscriptions(
    session: AsyncSession, customer_ref: str | None, after: str | None, limit: int
) -> tuple[Sequence[Subscription], str | None]:
    customer_id = (await get_customer(session, customer_ref)).id if customer_ref else None
    rows = await repository.list_subscriptions(session, customer_id, after, limit + 1)
    return split_page(rows, limit, lambda subscription: subscription.id)
