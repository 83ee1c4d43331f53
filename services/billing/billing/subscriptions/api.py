from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from tally_runtime.pages import DEFAULT_LIMIT, After, Limit
from tally_runtime.problems import Problem
from tally_runtime.tables import CSV_RESPONSES, page_response

from billing.customers.api import unknown_customer
from billing.customers.service import UnknownCustomer, get_customer
from billing.db import SessionDep
from billing.invoices import closing
from billing.invoices.schemas import InvoiceOut
from billing.subscriptions import service
from billing.subscriptions.models import Subscription
from billing.subscriptions.schemas import (
    CancelIn,
    ChangePlanIn,
    PlanRef,
    SubscriptionIn,
    SubscriptionList,
    SubscriptionOut,
)

router = APIRouter(prefix="/v1/subscriptions", tags=["subscriptions"])


def out(subscription: Subscription) -> SubscriptionOut:
    scheduled = subscription.scheduled_plan
    return SubscriptionOut(
        id=subscription.id,
        customer_id=subscription.customer_id,
        plan=PlanRef(key=subscription.plan.key, version=subscription.plan.version),
        scheduled_plan=PlanRef(key=scheduled.key, version=scheduled.version) if scheduled else None,
        status=subscription.status,
        currency=subscription.plan.currency,
        started_at=subscription.started_at,
        trial_end=subscription.trial_end,
        current_period_start=subscription.current_period_start,
        current_period_end=subscription.current_period_end,
        cancel_at_period_end=subscription.cancel_at_period_end,
        canceled_at=subscription.canceled_at,
        ended_at=subscription.ended_at,
        created_at=subscription.created_at,
    )


def _refused(exc: service.Refused) -> Problem:
    return Problem(422, exc.errors[0]["reason"], errors=exc.errors)


def _unknown(subscription_id: str) -> Problem:
    return Problem(404, f"No subscription {subscription_id!r}.")


@router.post("", status_code=201)
async def create_subscription(data: SubscriptionIn, session: SessionDep) -> SubscriptionOut:
    try:
        return out(await service.create_subscription(session, data, datetime.now(UTC)))
    except UnknownCustomer:
        raise Problem(
            422,
            f"No customer {data.customer_id!r}.",
            errors=[{"field": "body.customer_id", "reason": "no customer has this id or external_id"}],
        ) from None
    except service.Refused as exc:
        raise _refused(exc) from None


@router.get("", response_model=SubscriptionList, responses=CSV_RESPONSES)
async def list_subscriptions(
    request: Request,
    session: SessionDep,
    customer_id: Annotated[str | None, Query(description="Our `cus_` id or your external id")] = None,
    after: After = None,
    limit: Limit = DEFAULT_LIMIT,
) -> Response:
    """Cursor pages; `Accept: text/csv` for the page as CSV."""
    try:
        rows, cursor = await service.list_subscriptions(session, customer_id, after, limit)
    except UnknownCustomer:
        raise unknown_customer(customer_id or "") from None
    return page_response(
        request, SubscriptionList(data=[out(s) for s in rows], next_cursor=cursor), filename="subscriptions"
    )


@router.get("/{subscription_id}")
async def get_subscription(subscription_id: str, session: SessionDep) -> SubscriptionOut:
    try:
        return out(await service.get_subscription(session, subscription_id))
    except service.UnknownSubscription:
        raise _unknown(subscription_id) from None


@router.post("/{subscription_id}/change-plan")
async def change_plan(subscription_id: str, data: ChangePlanIn, session: SessionDep) -> SubscriptionOut:
    """A dearer plan now, the rest of the period prorated to the second on the next invoice; a cheaper one at the
    end of the period."""
    try:
        return out(await service.change_plan(session, subscription_id, data, datetime.now(UTC)))
    except service.UnknownSubscription:
        raise _unknown(subscription_id) from None
    except service.Refused as exc:
        raise _refused(exc) from None


@router.post("/{subscription_id}/cancel")
async def cancel(subscription_id: str, session: SessionDep, data: CancelIn | None = None) -> SubscriptionOut:
    try:
        return out(await service.cancel(session, subscription_id, data or CancelIn(), datetime.now(UTC)))
    except service.UnknownSubscription:
        raise _unknown(subscription_id) from None
    except service.Refused as exc:
        raise _refused(exc) from None


@router.get("/{subscription_id}/upcoming-invoice")
async def upcoming_invoice(subscription_id: str, session: SessionDep) -> InvoiceOut:
    """What the open period would be invoiced if it closed with the usage so far; nothing is written."""
    try:
        subscription = await service.get_subscription(session, subscription_id)
    except service.UnknownSubscription:
        raise _unknown(subscription_id) from None
    if subscription.ended_at is not None:
        raise Problem(404, "The subscription has ended; it has no upcoming invoice.")
    customer = await get_customer(session, subscription.customer_id)
    return InvoiceOut.model_validate(await closing.upcoming(session, subscription, customer, datetime.now(UTC)))
